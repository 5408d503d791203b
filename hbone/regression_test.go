package hbone

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/meshfed/meshfed/hbone/identity"
)

// TestTunnelOutlivesDialContext is the regression test for HTTP/2 tunnels that died when the
// context given to Dial ended after Dial returned (the usual defer cancel()): a context bounds
// the dial only, on both transports.
func TestTunnelOutlivesDialContext(t *testing.T) {
	pki := newTestPKI(t, testTrustDomain)
	ts := startServer(t, pki, serverConfig{})
	target := upstream(t, echo)
	d := newTestDialer(t, pki.source(t, "ns1", "client"), nil)
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			c, err := d.Dial(ctx, peerOf(ts, p), target, Metadata{})
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			echoOnce(t, c, "after the dial's context ended")
			if err := c.CloseWrite(); err != nil {
				t.Fatal(err)
			}
			if rest, err := readAllWithin(c, waitTimeout); err != nil || len(rest) != 0 {
				t.Fatalf("after FIN: %q, %v; want a clean EOF", rest, err)
			}
		})
	}
}

// TestNoSPIFFEIDIsIdentityError is the regression test for a server certificate without a
// SPIFFE ID classified as unreachable on HTTP/2 (as identity on HTTP/3): a load balancer must
// not take an impostor for a network fault.
func TestNoSPIFFEIDIsIdentityError(t *testing.T) {
	pki := newTestPKI(t, testTrustDomain)
	noID := pki.workloadTemplate(t, "ns1", "waypoint")
	noID.URIs = nil
	noID.DNSNames = []string{"waypoint.example"}
	ts := startServer(t, pki, serverConfig{source: pki.forged(t, "ns1", "waypoint", noID)})
	target := upstream(t, echo)
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			d := newTestDialer(t, pki.source(t, "ns1", "client"), nil)
			c, err := d.Dial(t.Context(), Peer{Address: ts.addr, Protocol: onlyProtocol(p)}, target, Metadata{})
			if err == nil {
				c.Close()
				t.Fatal("tunnel opened through a server without a SPIFFE ID")
			}
			mustKind(t, err, KindIdentity)
			if !errors.Is(err, identity.ErrRejected) && p == ProtocolH2 {
				t.Fatalf("error %v does not wrap identity.ErrRejected", err)
			}
		})
	}
	if ts.dials.Load() != 0 {
		t.Fatal("the server's hook was reached")
	}
}

// TestExtKeyUsageEnforced is the regression test for certificates accepted for a usage their
// extended key usage excludes: a serverAuth-only certificate cannot authenticate a client, a
// clientAuth-only one cannot authenticate a server.
func TestExtKeyUsageEnforced(t *testing.T) {
	pki := newTestPKI(t, testTrustDomain)
	only := func(sa string, usage x509.ExtKeyUsage) identity.StaticSource {
		tmpl := pki.workloadTemplate(t, "ns1", sa)
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{usage}
		return pki.forged(t, "ns1", sa, tmpl)
	}
	clientOnlyServer := startServer(t, pki, serverConfig{source: only("waypoint", x509.ExtKeyUsageClientAuth)})
	goodServer := startServer(t, pki, serverConfig{})
	target := upstream(t, echo)
	for _, p := range protocols {
		t.Run(p.String()+"/clientAuth-only server", func(t *testing.T) {
			d := newTestDialer(t, pki.source(t, "ns1", "client"), nil)
			_, err := d.Dial(t.Context(), Peer{Address: clientOnlyServer.addr, Protocol: onlyProtocol(p)}, target, Metadata{})
			mustKind(t, err, KindIdentity)
		})
		t.Run(p.String()+"/serverAuth-only client", func(t *testing.T) {
			d := newTestDialer(t, only("client", x509.ExtKeyUsageServerAuth), nil)
			_, err := d.Dial(t.Context(), Peer{Address: goodServer.addr, Protocol: onlyProtocol(p)}, target, Metadata{})
			if err == nil {
				t.Fatal("a serverAuth-only client certificate opened a tunnel")
			}
			if k := KindOf(err); k != KindIdentity && k != KindUnreachable {
				t.Fatalf("error %v, want the handshake refused", err)
			}
		})
	}
	if clientOnlyServer.dials.Load()+goodServer.dials.Load() != 0 {
		t.Fatal("a hook was reached")
	}
}

// TestCallerClusterFromCertificate checks that the server hands the Handler the cluster of the
// caller's certificate, whatever the caller's Baggage claims, and that a dialer refuses a
// server whose certificate names another cluster than the peer's.
func TestCallerClusterFromCertificate(t *testing.T) {
	pki := newTestPKI(t, testTrustDomain)
	type seen struct{ cluster, claimed string }
	callers := make(chan seen, 4)
	hook := HandlerFunc(func(ctx context.Context, req *Request) (net.Conn, error) {
		callers <- seen{req.CallerCluster, req.Locality().Cluster}
		var d net.Dialer
		return d.DialContext(ctx, "tcp", req.Target.String())
	})
	ts := startServer(t, pki, serverConfig{source: identity.NewStaticSource(pki.materialIn(t, "ns1", "waypoint", "west")), handler: hook})
	target := upstream(t, echo)
	// The client's certificate names cluster east; its Baggage claims west.
	d := newTestDialer(t, identity.NewStaticSource(pki.materialIn(t, "ns1", "client", "east")), func(o *Options) { o.Locality.Cluster = "west" })
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			peer := Peer{Address: ts.addr, Identity: ts.id, Cluster: "west", Protocol: onlyProtocol(p)}
			c, err := d.Dial(t.Context(), peer, target, Metadata{})
			if err != nil {
				t.Fatal(err)
			}
			echoOnce(t, c, "cluster")
			c.Close()
			if got := <-callers; got != (seen{"east", "west"}) {
				t.Fatalf("handler saw cluster %q (claimed %q), want east from the certificate", got.cluster, got.claimed)
			}
			peer.Cluster = "north"
			_, err = d.Dial(t.Context(), peer, target, Metadata{})
			e := mustKind(t, err, KindIdentity)
			var mm *identity.MismatchError
			if !errors.As(e, &mm) && p == ProtocolH2 {
				t.Fatalf("error %v, want a MismatchError", err)
			}
		})
	}
}

// onlyProtocol pins p: HTTP/3 without falling back to HTTP/2.
func onlyProtocol(p Protocol) Protocol {
	if p == ProtocolH3 {
		return ProtocolH3Only
	}
	return p
}

// waitTimeout bounds every wait of a test for something that normally takes milliseconds.
const waitTimeout = 10 * time.Second
