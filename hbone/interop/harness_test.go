package interop

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	istiohbone "istio.io/istio/pkg/hbone"

	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/hbone/identity"
	"github.com/meshfed/meshfed/internal/syncbuf"
)

const trustDomain = "cluster.local"

var quiet = slog.New(slog.DiscardHandler)

// pki is one development CA and the credentials it issued for a test.
type pki struct {
	ca    *identity.CA
	roots *x509.CertPool
}

func newPKI(t testing.TB) *pki {
	t.Helper()
	ca, err := identity.NewRootCA(trustDomain, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Certificate)
	return &pki{ca: ca, roots: roots}
}

// material issues shop's sa in cluster with extra SANs.
func (p *pki) material(t testing.TB, sa, cluster string, sans ...string) *identity.Material {
	t.Helper()
	id, err := identity.WorkloadID(trustDomain, "shop", sa)
	if err != nil {
		t.Fatal(err)
	}
	issued, err := p.ca.Issue(identity.Workload{ID: id, Cluster: cluster}, time.Hour, sans...)
	if err != nil {
		t.Fatal(err)
	}
	m, err := identity.NewMaterial(issued.CertPEM, issued.KeyPEM, p.ca.CertPEM())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// istioClientTLS is the TLS configuration an Istio HBONE client is given: the client
// certificate and the roots; it verifies the server's certificate against the address it
// dials, as crypto/tls does by default.
func (p *pki) istioClientTLS(m *identity.Material) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{m.Certificate}, RootCAs: p.roots, MinVersion: tls.VersionTLS13}
}

// istioServerTLS is the TLS configuration of an Istio HBONE server, as Istio's echo server
// sets it up (certificate, ALPN h2), with client certificates required and verified.
func (p *pki) istioServerTLS(m *identity.Material) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{m.Certificate}, NextProtos: []string{"h2"}, MinVersion: tls.VersionTLS13,
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.roots,
	}
}

// startIstioServer serves Istio's HBONE server on a loopback TLS listener.
func startIstioServer(t testing.TB, conf *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", conf)
	if err != nil {
		t.Fatal(err)
	}
	srv := istiohbone.NewServer()
	srv.ErrorLog = slog.NewLogLogger(quiet.Handler(), slog.LevelError)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	return ln.Addr().String()
}

// startMeshfedServer serves meshfed's HBONE server on loopback (TCP only: Istio's package
// speaks HTTP/2); its handler lets callers reach only allowed.
func startMeshfedServer(t testing.TB, src identity.Source, allowed ...netip.AddrPort) string {
	t.Helper()
	return startMeshfedServerLogging(t, src, quiet, allowed...)
}

// startMeshfedServerLogging is startMeshfedServer with the server logging to log.
func startMeshfedServerLogging(t testing.TB, src identity.Source, log *slog.Logger, allowed ...netip.AddrPort) string {
	t.Helper()
	srv, err := hbone.NewServer(hbone.ServerOptions{
		Source: src, Logger: log,
		Handler: hbone.HandlerFunc(func(ctx context.Context, req *hbone.Request) (net.Conn, error) {
			for _, a := range allowed {
				if req.Target == a {
					var d net.Dialer
					return d.DialContext(ctx, "tcp", a.String())
				}
			}
			return nil, hbone.Deny(hbone.ReasonDenied)
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(tcp, nil) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return tcp.Addr().String()
}

func newMeshfedDialer(t testing.TB, src identity.Source) *hbone.Dialer {
	t.Helper()
	d, err := hbone.NewDialer(hbone.Options{Source: src, Logger: quiet, Locality: hbone.Locality{Cluster: "east", Namespace: "shop"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// upstream is a loopback TCP server running fn on every connection.
func upstream(t testing.TB, fn func(c *net.TCPConn)) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(time.Minute))
				fn(c.(*net.TCPConn))
			})
		}
	})
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

// halfCloseUpstream reads until the client's FIN, sends what it got to got, then answers
// "pong:" and the data, and closes.
func halfCloseUpstream(got chan<- []byte) func(c *net.TCPConn) {
	return func(c *net.TCPConn) {
		data, err := io.ReadAll(c)
		if err != nil {
			return
		}
		got <- data
		_, _ = c.Write(append([]byte("pong:"), data...))
	}
}

// readAllWithin is io.ReadAll that fails instead of blocking past d (the conn gets a
// deadline when it supports one).
func readAllWithin(c net.Conn, d time.Duration) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() { b, err := io.ReadAll(c); ch <- result{b, err} }()
	select {
	case r := <-ch:
		return r.b, r.err
	case <-time.After(d):
		_ = c.Close()
		return nil, errors.New("read timed out")
	}
}

// logBook keeps what a server logs, for a test to read while the server runs.
type logBook struct{ syncbuf.Buffer }

// logger logs every level, debug included, into b.
func (b *logBook) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
