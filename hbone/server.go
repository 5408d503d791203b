package hbone

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"github.com/meshfed/meshfed/hbone/identity"
)

// Server terminates HBONE tunnels: HTTP/2 on a TCP listener and HTTP/3 on a UDP socket,
// normally on the same port number. Every tunnel goes through the Handler.
type Server struct {
	opts ServerOptions
	h2   *http.Server
	h3   *http3.Server
	adm  *admission

	active     atomic.Int64
	idleClosed atomic.Uint64
	tunnels    sync.WaitGroup

	mu         sync.Mutex
	transports []*quic.Transport // closed by Close, with their sockets
	closed     bool
}

// NewServer returns a Server; it does no I/O until Serve.
func NewServer(opts ServerOptions) (*Server, error) {
	opts.setDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	s := &Server{opts: opts, adm: newAdmission(opts.Limits)}
	s.h2 = s.newH2Server()
	s.h3 = s.newH3Server()
	return s, nil
}

func (s *Server) newH2Server() *http.Server {
	l, t := s.opts.Limits, s.opts.Transport
	protocols := new(http.Protocols)
	protocols.SetHTTP2(true)
	return &http.Server{
		Handler:           http.HandlerFunc(s.serveH2),
		Protocols:         protocols,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		ReadHeaderTimeout: l.HandshakeTimeout,
		IdleTimeout:       l.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.opts.Logger.Handler(), slog.LevelDebug),
		HTTP2: &http.HTTP2Config{
			MaxConcurrentStreams:          l.MaxConcurrentStreams,
			MaxReceiveBufferPerStream:     t.StreamWindow,
			MaxReceiveBufferPerConnection: t.ConnectionWindow,
			MaxReadFrameSize:              t.MaxFrameSize,
			SendPingTimeout:               t.KeepAlive,
			PingTimeout:                   t.KeepAliveTimeout,
		},
	}
}

func (s *Server) newH3Server() *http3.Server {
	l := s.opts.Limits
	qc := quicConfig(&s.opts.Transport, l.HandshakeTimeout)
	qc.MaxIncomingStreams = int64(l.MaxConcurrentStreams)
	return &http3.Server{
		Handler:        http.HandlerFunc(s.serveH3),
		QUICConfig:     qc,
		MaxHeaderBytes: l.MaxHeaderBytes,
		IdleTimeout:    l.IdleTimeout,
		Logger:         s.opts.Logger,
		// Called once the QUIC handshake completed (Serve listens with quic.Transport.Listen).
		ConnContext: func(ctx context.Context, _ *quic.Conn) context.Context {
			s.adm.quicHandshakeDone(ctx)
			return ctx
		},
	}
}

func (s *Server) tlsConfig(nextProtos []string) *tls.Config {
	return identity.ServerConfig(s.opts.Source, nextProtos)
}

// Serve serves HTTP/2 on tcp and HTTP/3 on udp (either may be nil) until Shutdown or Close,
// then closes both and returns nil; it returns the first other error of either server.
// Connections over the Limits' caps are refused before their handshake.
func (s *Server) Serve(tcp net.Listener, udp net.PacketConn) error {
	var wg sync.WaitGroup
	errs := make([]error, 2)
	if tcp != nil {
		l := s.opts.Limits
		ln := newTLSListener(tcp, s.tlsConfig([]string{"h2"}), l.HandshakeTimeout, s.adm, s.opts.Logger)
		wg.Go(func() { errs[0] = s.h2.Serve(ln) })
	}
	if udp != nil {
		wg.Go(func() { errs[1] = s.serveQUIC(udp) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, quic.ErrServerClosed) {
			return fmt.Errorf("failed to serve HBONE %s: %w", "listener", err)
		}
	}
	return nil
}

// serveQUIC serves HTTP/3 on udp through a QUIC transport that admits connections within the
// Limits' caps and makes busy sources prove their address.
func (s *Server) serveQUIC(udp net.PacketConn) error {
	tr := &quic.Transport{
		Conn: udp,
		ConnContext: func(ctx context.Context, info *quic.ClientInfo) (context.Context, error) {
			return s.adm.admitQUIC(ctx, info.RemoteAddr)
		},
		VerifySourceAddress: func(a net.Addr) bool { return s.adm.busy(sourceOf(a)) },
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return http.ErrServerClosed
	}
	s.transports = append(s.transports, tr)
	s.mu.Unlock()
	ln, err := tr.Listen(http3.ConfigureTLSConfig(s.tlsConfig([]string{http3.NextProtoH3})), s.h3.QUICConfig)
	if err != nil {
		return err
	}
	// Shutdown ends ServeListener but not the connections; Close closes the transport.
	return s.h3.ServeListener(ln)
}

// closeTransports closes the QUIC transports and their sockets, ending their connections.
func (s *Server) closeTransports() error {
	s.mu.Lock()
	trs := s.transports
	s.transports, s.closed = nil, true
	s.mu.Unlock()
	var errs []error
	for _, tr := range trs {
		errs = append(errs, tr.Close(), ignoreClosed(tr.Conn.Close()))
	}
	return errors.Join(errs...)
}

func ignoreClosed(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections and streams, waits for open tunnels to finish until
// ctx ends, then closes whatever is left.
func (s *Server) Shutdown(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { _ = s.h2.Shutdown(ctx) })
	wg.Go(func() { _ = s.h3.Shutdown(ctx) })
	wg.Wait()
	done := make(chan struct{})
	go func() { s.tunnels.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	cerr := s.Close()
	<-done
	if ctx.Err() != nil {
		return fmt.Errorf("failed to drain tunnels %s: %w", "before deadline", ctx.Err())
	}
	return cerr
}

// Close closes every listener and connection at once; open tunnels end.
func (s *Server) Close() error {
	return errors.Join(s.h2.Close(), s.h3.Close(), s.closeTransports())
}

// Stats are counters of what a Server refused or closed since it was made.
type Stats struct {
	// RefusedTotal, RefusedPerSource and RefusedHandshakes count connections refused because
	// MaxConnections, MaxConnectionsPerSource or MaxHandshakesPerSource was reached.
	RefusedTotal, RefusedPerSource, RefusedHandshakes uint64
	// RefusedTunnels counts tunnels refused because MaxTunnels or MaxTunnelsPerSource was
	// reached.
	RefusedTunnels uint64
	// IdleTunnelsClosed counts tunnels closed by TunnelIdleTimeout.
	IdleTunnelsClosed uint64
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	return Stats{
		RefusedTotal:      s.adm.refused[overTotal].Load(),
		RefusedPerSource:  s.adm.refused[overSource].Load(),
		RefusedHandshakes: s.adm.refused[overHandshakes].Load(),
		RefusedTunnels:    s.adm.refused[overTunnels].Load() + s.adm.refused[overSourceTunnels].Load(),
		IdleTunnelsClosed: s.idleClosed.Load(),
	}
}

// ActiveTunnels returns the number of established tunnels.
func (s *Server) ActiveTunnels() int { return int(s.active.Load()) }

func (s *Server) beginTunnel() {
	s.tunnels.Add(1)
	s.active.Add(1)
}

func (s *Server) endTunnel() {
	s.active.Add(-1)
	s.tunnels.Done()
}
