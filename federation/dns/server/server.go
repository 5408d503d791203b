package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/netutil"

	"github.com/meshfed/meshfed/federation/dns/zone"
	"github.com/meshfed/meshfed/internal/dualport"
)

// Defaults of Options.
const (
	DefaultMaxTCPConnections = 1024
	// readBuffer is the largest UDP query read; queries are a question and an OPT record, so
	// 4 KiB leaves room for any EDNS0 options a client adds.
	readBuffer = 4096
	// tcpTimeout bounds reading one query and writing one response on a TCP connection.
	tcpTimeout = 2 * time.Second
	// tcpIdle closes a TCP connection that sends no query for that long (RFC 7766 suggests
	// seconds).
	tcpIdle = 10 * time.Second
	// shutdownGrace bounds waiting for the queries in flight at shutdown.
	shutdownGrace = 5 * time.Second
)

// Options configure a Server.
type Options struct {
	// Registerer takes the server's metrics; nil means a registry of its own (not exported).
	Registerer prometheus.Registerer
	// MaxTCPConnections bounds the open TCP connections; further ones wait to be accepted.
	// 0 means DefaultMaxTCPConnections.
	MaxTCPConnections int
	Logger            *slog.Logger
}

// Server answers DNS queries from the table published last. Until the first Publish it answers
// SERVFAIL, so a readiness check should wait for Ready.
type Server struct {
	table   atomic.Pointer[zone.Table]
	metrics *metrics
	maxTCP  int
	log     *slog.Logger
}

// New makes a server; it does no I/O.
func New(o Options) (*Server, error) {
	reg := o.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("failed to register DNS metrics: %w", err)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{metrics: m, maxTCP: cmp.Or(o.MaxTCPConnections, DefaultMaxTCPConnections), log: log}, nil
}

// Publish makes t the table every query from now on is answered from.
func (s *Server) Publish(t *zone.Table) {
	s.table.Store(t)
	s.metrics.published(t)
}

// Ready reports whether a table has been published.
func (s *Server) Ready() bool { return s.table.Load() != nil }

// ServeDNS answers one query (dns.Handler).
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	_, tcp := w.LocalAddr().(*net.TCPAddr)
	var resp *dns.Msg
	if t := s.table.Load(); t != nil {
		resp = t.Answer(req, tcp)
	} else if !req.Response {
		resp = new(dns.Msg)
		resp.SetRcode(req, dns.RcodeServerFailure)
	}
	if resp == nil {
		return
	}
	if err := w.WriteMsg(resp); err != nil {
		s.log.Debug("failed to write DNS response", "remote", w.RemoteAddr().String(), "error", err)
		return
	}
	s.metrics.answered(resp.Rcode, tcp)
}

// ListenAndServe listens on addr over UDP and TCP and serves until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	l, pc, err := dualport.Listen(addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, pc, l)
}

// Serve answers queries arriving on pc and l until ctx ends, then stops accepting, waits up to
// 5 seconds for the queries in flight and closes both. It returns the first serving error, nil
// after a shutdown.
func (s *Server) Serve(ctx context.Context, pc net.PacketConn, l net.Listener) error {
	started := make(chan struct{}, 2)
	notify := func() { started <- struct{}{} }
	udp := &dns.Server{PacketConn: pc, Handler: s, UDPSize: readBuffer, NotifyStartedFunc: notify}
	tcp := &dns.Server{
		Listener: netutil.LimitListener(l, s.maxTCP), Handler: s, NotifyStartedFunc: notify,
		ReadTimeout: tcpTimeout, WriteTimeout: tcpTimeout, IdleTimeout: func() time.Duration { return tcpIdle },
	}
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	for _, srv := range []*dns.Server{udp, tcp} {
		wg.Go(func() { errs <- srv.ActivateAndServe() })
	}
	// Shutting down a dns.Server that has not started yet fails and leaves it running once it
	// starts: wait until both have (or one failed to).
	var err error
	for range 2 {
		select {
		case <-started:
		case err = <-errs:
		}
		if err != nil {
			break
		}
	}
	if err == nil {
		s.log.Info("DNS server listening", "udp", pc.LocalAddr().String(), "tcp", l.Addr().String())
		select {
		case <-ctx.Done():
		case err = <-errs:
		}
	}
	if err != nil {
		err = fmt.Errorf("failed to serve DNS: %w", err)
	}
	shutdown, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	for _, srv := range []*dns.Server{udp, tcp} {
		if serr := srv.ShutdownContext(shutdown); serr != nil && !errors.Is(serr, context.DeadlineExceeded) {
			s.log.Debug("DNS server shutdown", "error", serr)
		}
	}
	// A server that failed, or never started, is stopped by closing what it serves.
	_ = pc.Close()
	_ = l.Close()
	wg.Wait()
	return err
}
