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

	"github.com/quic-go/quic-go/http3"

	"github.com/meshfed/meshfed/hbone/identity"
)

// Server terminates HBONE tunnels: HTTP/2 on a TCP listener and HTTP/3 on a UDP socket,
// normally on the same port number. Every tunnel goes through the Handler.
type Server struct {
	opts ServerOptions
	h2   *http.Server
	h3   *http3.Server

	active  atomic.Int64
	tunnels sync.WaitGroup
}

// NewServer returns a Server; it does no I/O until Serve.
func NewServer(opts ServerOptions) (*Server, error) {
	opts.setDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	s := &Server{opts: opts}
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
		ReadHeaderTimeout: l.HandshakeTimeout, // also bounds the TLS handshake
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
		TLSConfig:      http3.ConfigureTLSConfig(s.tlsConfig([]string{http3.NextProtoH3})),
		QUICConfig:     qc,
		MaxHeaderBytes: l.MaxHeaderBytes,
		IdleTimeout:    l.IdleTimeout,
		Logger:         s.opts.Logger,
	}
}

func (s *Server) tlsConfig(nextProtos []string) *tls.Config {
	c := identity.ServerConfig(s.opts.Source, nextProtos)
	// Without tickets every connection presents and verifies a full certificate chain, so a
	// rotation of roots applies to every new connection.
	c.SessionTicketsDisabled = true
	return c
}

// Serve serves HTTP/2 on tcp and HTTP/3 on udp (either may be nil) until Shutdown or Close,
// then returns nil; it returns the first other error of either server.
func (s *Server) Serve(tcp net.Listener, udp net.PacketConn) error {
	var wg sync.WaitGroup
	errs := make([]error, 2)
	if tcp != nil {
		ln := tls.NewListener(newLimitListener(tcp, s.opts.Limits.MaxConnections), s.tlsConfig([]string{"h2"}))
		wg.Go(func() { errs[0] = s.h2.Serve(ln) })
	}
	if udp != nil {
		wg.Go(func() { errs[1] = s.h3.Serve(udp) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			return fmt.Errorf("failed to serve HBONE %s: %w", "listener", err)
		}
	}
	return nil
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
	return errors.Join(s.h2.Close(), s.h3.Close())
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
