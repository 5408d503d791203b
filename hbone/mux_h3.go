package hbone

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// HTTP/3 error codes (RFC 9114 §8.1) used to reset tunnel streams.
const (
	h3NoError         = 0x100
	h3InternalError   = 0x102
	h3RequestCanceled = 0x10c
)

// h3Mux is one QUIC connection owned by the pool. QUIC does not expose the peer's stream
// limit, so the pool counts streams against Options.MaxStreamsPerConn.
type h3Mux struct {
	qc    *quic.Conn
	cc    *http3.ClientConn
	limit int

	mu       sync.Mutex
	inflight int
}

func (m *h3Mux) reserve() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.inflight >= m.limit || m.broken() {
		return false
	}
	m.inflight++
	return true
}

func (m *h3Mux) unreserve() {
	m.mu.Lock()
	m.inflight--
	m.mu.Unlock()
}

func (m *h3Mux) inFlight() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.inflight
}

func (m *h3Mux) broken() bool { return m.qc.Context().Err() != nil }
func (m *h3Mux) close() error { return m.qc.CloseWithError(quic.ApplicationErrorCode(h3NoError), "") }

// ackSample is false: QUIC connections are not watched for stalls (watchable).
func (m *h3Mux) ackSample() (ackSample, bool) { return ackSample{}, false }

// open sends the CONNECT request; the returned release gives the slot back when the tunnel
// closes. On failure the slot is given back before open returns.
func (m *h3Mux) open(ctx context.Context, req *http.Request) (stream, *http.Response, func(), error) {
	rs, err := m.cc.OpenRequestStream(ctx)
	if err != nil {
		m.unreserve()
		return nil, nil, nil, err
	}
	stop := context.AfterFunc(ctx, func() { rs.CancelRead(h3RequestCanceled); rs.CancelWrite(h3RequestCanceled) })
	resp, err := m.sendConnect(rs, req)
	if !stop() && err == nil {
		err = ctx.Err()
	}
	if err != nil || resp.StatusCode != http.StatusOK {
		rs.CancelRead(h3RequestCanceled)
		rs.CancelWrite(h3RequestCanceled)
		m.unreserve()
		return nil, resp, nil, err
	}
	return &h3Stream{rs: rs}, resp, m.unreserve, nil
}

func (m *h3Mux) sendConnect(rs *http3.RequestStream, req *http.Request) (*http.Response, error) {
	if err := rs.SendRequestHeader(req); err != nil {
		return nil, err
	}
	return rs.ReadResponse()
}

// h3Stream is a tunnel on one HTTP/3 request stream; Close on it sends FIN.
type h3Stream struct {
	rs *http3.RequestStream

	mu        sync.Mutex
	wroteFIN  bool
	sawEOF    bool
	abortOnce sync.Once
}

func (s *h3Stream) Read(p []byte) (int, error) {
	n, err := s.rs.Read(p)
	if err != nil && isEOF(err) {
		s.mu.Lock()
		s.sawEOF = true
		s.mu.Unlock()
	}
	return n, err
}

func (s *h3Stream) Write(p []byte) (int, error) { return s.rs.Write(p) }

func (s *h3Stream) closeWrite() error {
	s.mu.Lock()
	s.wroteFIN = true
	s.mu.Unlock()
	return s.rs.Close()
}

// abort resets whatever direction has not finished cleanly, so that a fully completed
// exchange is not cut short by a reset.
func (s *h3Stream) abort() error {
	s.abortOnce.Do(func() {
		s.mu.Lock()
		wroteFIN, sawEOF := s.wroteFIN, s.sawEOF
		s.mu.Unlock()
		if !sawEOF {
			s.rs.CancelRead(h3RequestCanceled)
		}
		if !wroteFIN {
			s.rs.CancelWrite(h3RequestCanceled)
		}
	})
	return nil
}

func (s *h3Stream) setReadDeadline(t time.Time) error  { return s.rs.SetReadDeadline(t) }
func (s *h3Stream) setWriteDeadline(t time.Time) error { return s.rs.SetWriteDeadline(t) }

// quicConfig returns the QUIC settings shared by client and server: flow-control windows,
// keepalive and idle timeout.
func quicConfig(o *Options, handshake time.Duration) *quic.Config {
	return &quic.Config{
		HandshakeIdleTimeout:           handshake,
		MaxIdleTimeout:                 o.KeepAliveTimeout,
		KeepAlivePeriod:                o.KeepAlive,
		InitialStreamReceiveWindow:     uint64(o.StreamWindow),
		MaxStreamReceiveWindow:         uint64(o.StreamWindow),
		InitialConnectionReceiveWindow: uint64(o.ConnectionWindow),
		MaxConnectionReceiveWindow:     uint64(o.ConnectionWindow),
	}
}

// dialH3 opens one QUIC connection with ALPN h3 for key.
func (d *Dialer) dialH3(ctx context.Context, key poolKey, tlsConf *tls.Config) (mux, error) {
	conf := quicConfig(&d.opts, d.opts.H3HandshakeTimeout)
	conf.MaxIncomingStreams = -1
	qc, err := quic.DialAddr(ctx, key.addr, tlsConf, conf)
	if err != nil {
		return nil, err
	}
	cc := d.h3.NewClientConn(qc)
	return &h3Mux{qc: qc, cc: cc, limit: d.opts.MaxStreamsPerConn}, nil
}

func h3Addrs(m *h3Mux) (net.Addr, net.Addr) { return m.qc.LocalAddr(), m.qc.RemoteAddr() }
