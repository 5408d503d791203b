package hbone

import (
	"github.com/meshfed/meshfed/internal/quietconn"

	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"
)

// h2Mux is one HTTP/2 connection owned by the pool; net/http tracks its stream limit.
type h2Mux struct {
	cc     *http.ClientConn
	local  net.Addr
	remote net.Addr
	tcp    syscall.Conn // the TCP connection under TLS, for ackSample
}

func (m *h2Mux) reserve() bool                { return m.cc.Reserve() == nil }
func (m *h2Mux) unreserve()                   { m.cc.Release() }
func (m *h2Mux) broken() bool                 { return m.cc.Err() != nil }
func (m *h2Mux) inFlight() int                { return m.cc.InFlight() }
func (m *h2Mux) close() error                 { return m.cc.Close() }
func (m *h2Mux) ackSample() (ackSample, bool) { return readAckSample(m.tcp) }

// open consumes the reservation: ClientConn.RoundTrip releases it on every path. ctx bounds
// the wait for the answer only: net/http ties a stream to its request's context, so the
// request gets a context of its own, ended when the tunnel closes (or when ctx ends before
// the answer came).
func (m *h2Mux) open(ctx context.Context, req *http.Request) (stream, *http.Response, func(), error) {
	pr, pw := io.Pipe()
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, cancel)
	req = req.WithContext(sctx)
	req.Body = pr
	resp, err := m.cc.RoundTrip(req)
	if !stop() && err == nil {
		// ctx ended while the answer arrived: the stream is being reset.
		_ = resp.Body.Close()
		err = ctx.Err()
	}
	if err != nil {
		cancel()
		pw.CloseWithError(err)
		return nil, nil, nil, err
	}
	s := &h2Stream{pw: pw, body: resp.Body, cancel: cancel}
	if resp.StatusCode != http.StatusOK {
		_ = s.abort() // the refusal is the result; a close error adds nothing
		return nil, resp, nil, nil
	}
	return s, resp, nil, nil
}

// h2Stream sends through a pipe that the HTTP/2 transport drains into DATA frames and reads
// the response body; closing the pipe sends END_STREAM. cancel ends the stream's context.
type h2Stream struct {
	pw     *io.PipeWriter
	body   io.ReadCloser
	cancel context.CancelFunc
}

func (s *h2Stream) Read(p []byte) (int, error)  { return s.body.Read(p) }
func (s *h2Stream) Write(p []byte) (int, error) { return s.pw.Write(p) }
func (s *h2Stream) closeWrite() error           { return s.pw.Close() }

func (s *h2Stream) abort() error {
	s.pw.CloseWithError(net.ErrClosed)
	err := s.body.Close()
	s.cancel()
	return err
}

func (s *h2Stream) setReadDeadline(time.Time) error  { return ErrDeadlineUnsupported }
func (s *h2Stream) setWriteDeadline(time.Time) error { return ErrDeadlineUnsupported }

// h2Transport returns the net/http Transport that dials one pool key over TLS 1.3 with ALPN h2
// and the dialer's flow-control and keepalive settings.
func (d *Dialer) h2Transport(key poolKey, tlsConf *tls.Config) *http.Transport {
	protocols := new(http.Protocols)
	protocols.SetHTTP2(true)
	return &http.Transport{
		Protocols:          protocols,
		ForceAttemptHTTP2:  true,
		DisableCompression: true,
		DialTLSContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.dialTLS(ctx, key.addr, tlsConf)
		},
		HTTP2: &http.HTTP2Config{
			MaxReceiveBufferPerStream:     d.opts.StreamWindow,
			MaxReceiveBufferPerConnection: d.opts.ConnectionWindow,
			MaxReadFrameSize:              d.opts.MaxFrameSize,
			SendPingTimeout:               d.opts.KeepAlive,
			PingTimeout:                   d.opts.KeepAliveTimeout,
		},
	}
}

func (d *Dialer) dialTLS(ctx context.Context, addr string, tlsConf *tls.Config) (net.Conn, error) {
	nd := net.Dialer{KeepAlive: d.opts.KeepAlive}
	raw, err := nd.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	// The tunnels' bytes go through raw syscalls on the socket: a steady stream of requests
	// then wakes no sysmon thread per read or write (internal/quietconn).
	tc := tls.Client(quietconn.New(raw), tlsConf)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	if p := tc.ConnectionState().NegotiatedProtocol; p != "h2" {
		tc.Close()
		return nil, fmt.Errorf("failed to negotiate ALPN h2 with %s: got %q", addr, p)
	}
	return tc, nil
}

// dialH2 opens one HTTP/2 connection for key.
func (d *Dialer) dialH2(ctx context.Context, key poolKey, tlsConf *tls.Config) (mux, error) {
	var local, remote net.Addr
	var tcp syscall.Conn
	tr := d.h2Transport(key, tlsConf)
	inner := tr.DialTLSContext
	tr.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := inner(ctx, network, addr)
		if err == nil {
			local, remote = c.LocalAddr(), c.RemoteAddr()
			if tc, ok := c.(*tls.Conn); ok {
				tcp, _ = tc.NetConn().(syscall.Conn)
			}
		}
		return c, err
	}
	cc, err := tr.NewClientConn(ctx, "https", key.addr)
	if err != nil {
		return nil, err
	}
	return &h2Mux{cc: cc, local: local, remote: remote, tcp: tcp}, nil
}
