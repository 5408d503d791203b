package hbone

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/netip"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshfed/meshfed/hbone/identity"
)

const testTrustDomain = "test.local"

var quietLogger = slog.New(slog.DiscardHandler)

// testPKI is one trust domain's CA for a test.
type testPKI struct {
	ca *identity.CA
}

func newTestPKI(t testing.TB, trustDomain string) *testPKI {
	t.Helper()
	ca, err := identity.NewRootCA(trustDomain, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &testPKI{ca: ca}
}

func (p *testPKI) material(t testing.TB, ns, sa string) *identity.Material {
	t.Helper()
	return p.materialIn(t, ns, sa, "")
}

// materialIn issues the credentials of ns/sa in cluster ("" names no cluster).
func (p *testPKI) materialIn(t testing.TB, ns, sa, cluster string) *identity.Material {
	t.Helper()
	id, err := identity.WorkloadID(p.ca.TrustDomain(), ns, sa)
	if err != nil {
		t.Fatal(err)
	}
	issued, err := p.ca.Issue(identity.Workload{ID: id, Cluster: cluster}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	m, err := identity.NewMaterial(issued.CertPEM, issued.KeyPEM, p.ca.CertPEM())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (p *testPKI) source(t testing.TB, ns, sa string) identity.StaticSource {
	return identity.NewStaticSource(p.material(t, ns, sa))
}

// testServer is a running HBONE server on loopback whose hook allows the targets in allow.
type testServer struct {
	srv    *Server
	addr   string
	id     identity.ID
	dials  atomic.Int64
	denied atomic.Int64
	// silentUDP is the server's UDP socket when serverConfig.silentUDP: open, never read.
	silentUDP net.PacketConn
}

type serverConfig struct {
	source identity.Source
	limits Limits
	noUDP  bool
	// silentUDP serves no HTTP/3 but keeps the UDP port bound and unread (testServer.silentUDP),
	// so that QUIC packets sent to the server wait there and a test can see them.
	silentUDP bool
	handler   Handler
	// services lets tunnels name a service (ServerOptions.ServiceTargets).
	services bool
}

// startServer starts a server; the default hook allows only targets on 127.0.0.1 and
// denies everything else.
func startServer(t testing.TB, pki *testPKI, cfg serverConfig) *testServer {
	t.Helper()
	if cfg.source == nil {
		cfg.source = pki.source(t, "ns1", "waypoint")
	}
	ts := &testServer{id: cfg.source.Material().ID}
	if cfg.handler == nil {
		cfg.handler = HandlerFunc(func(ctx context.Context, req *Request) (net.Conn, error) {
			if req.Target.Addr() != netip.MustParseAddr("127.0.0.1") {
				ts.denied.Add(1)
				return nil, Deny(ReasonDenied)
			}
			ts.dials.Add(1)
			var d net.Dialer
			return d.DialContext(ctx, "tcp", req.Target.String())
		})
	}
	srv, err := NewServer(ServerOptions{Source: cfg.source, Handler: cfg.handler, Limits: cfg.limits, Logger: quietLogger, ServiceTargets: cfg.services})
	if err != nil {
		t.Fatal(err)
	}
	tcp, udp, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case cfg.noUDP:
		udp.Close()
		udp = nil
	case cfg.silentUDP:
		silent := udp
		ts.silentUDP = silent
		t.Cleanup(func() { _ = silent.Close() })
		udp = nil
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(tcp, udp) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	ts.srv, ts.addr = srv, tcp.Addr().String()
	return ts
}

func newTestDialer(t testing.TB, src identity.Source, mod func(*Options)) *Dialer {
	t.Helper()
	opts := Options{Source: src, Logger: quietLogger, Locality: Locality{Cluster: "c1", Namespace: "ns1", Network: "n1"}}
	if mod != nil {
		mod(&opts)
	}
	d, err := NewDialer(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
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
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				fn(c.(*net.TCPConn))
			})
		}
	})
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

// echo copies everything back and closes its write side on EOF.
func echo(c *net.TCPConn) {
	if _, err := io.Copy(c, c); err == nil {
		c.CloseWrite()
	}
}

var protocols = []Protocol{ProtocolH2, ProtocolH3}

func peerOf(ts *testServer, p Protocol) Peer {
	return Peer{Address: ts.addr, Identity: ts.id, Protocol: p}
}

// waitFor polls cond every 10ms for at most d.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cond()
}

func mustKind(t *testing.T, err error, want Kind) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Kind != want {
		t.Fatalf("error = %v, want Kind %s", err, want)
	}
	return e
}

// forged returns credentials whose certificate, signed by the test CA, is built from tmpl
// (serial, validity and key added) while the Material claims ns/sa: the certificate of an
// impostor or of a misconfigured issuer.
func (p *testPKI) forged(t testing.TB, ns, sa string, tmpl *x509.Certificate) identity.StaticSource {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca.Certificate, key.Public(), p.ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	id, err := identity.WorkloadID(p.ca.TrustDomain(), ns, sa)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(p.ca.Certificate)
	return identity.NewStaticSource(&identity.Material{
		Certificate: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
		Workload:    identity.Workload{ID: id},
		Roots:       roots,
	})
}

// workloadTemplate is what identity.CA.Issue puts into a certificate for ns/sa, to be changed
// by a test.
func (p *testPKI) workloadTemplate(t testing.TB, ns, sa string) *x509.Certificate {
	t.Helper()
	id, err := identity.WorkloadID(p.ca.TrustDomain(), ns, sa)
	if err != nil {
		t.Fatal(err)
	}
	return &x509.Certificate{
		Subject:     pkix.Name{Organization: []string{identity.ClusterOrganization}},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		URIs:        []*url.URL{id.URL()},
	}
}
