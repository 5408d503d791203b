package interop

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	istiohbone "istio.io/istio/pkg/hbone"

	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/hbone/identity"
)

const waitTimeout = 10 * time.Second

// TestMeshfedDialerThroughIstioServer opens meshfed tunnels through Istio's HBONE server:
// bytes both ways, the client's FIN reaching the upstream (which answers after it), the
// upstream's close reaching the client as EOF, and the server's identity and cluster checked.
func TestMeshfedDialerThroughIstioServer(t *testing.T) {
	p := newPKI(t)
	server := p.material(t, "meshfed-waypoint", "west")
	addr := startIstioServer(t, p.istioServerTLS(server))
	got := make(chan []byte, 1)
	target := upstream(t, halfCloseUpstream(got))
	d := newMeshfedDialer(t, identity.NewStaticSource(p.material(t, "meshfed-waypoint", "east")))
	peer := hbone.Peer{Address: addr, Identity: server.ID, Cluster: "west", Protocol: hbone.ProtocolH2}

	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	c, err := d.Dial(ctx, peer, target, hbone.Metadata{})
	cancel() // the tunnel outlives the dial's context
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := []byte(strings.Repeat("meshfed to istio ", 4096))
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	select {
	case up := <-got:
		if string(up) != string(msg) {
			t.Fatalf("upstream read %d bytes before FIN, want %d", len(up), len(msg))
		}
	case <-time.After(waitTimeout):
		t.Fatal("the upstream never saw the client's FIN")
	}
	reply, err := readAllWithin(c, waitTimeout)
	if err != nil || string(reply) != "pong:"+string(msg) {
		t.Fatalf("reply after FIN: %d bytes, %v", len(reply), err)
	}

	peer.Cluster = "north"
	if _, err := d.Dial(t.Context(), peer, target, hbone.Metadata{}); hbone.KindOf(err) != hbone.KindIdentity {
		t.Fatalf("Istio server whose certificate names west, dialed as north: %v, want an identity error", err)
	}
}

// TestIstioDialerThroughMeshfedServer opens tunnels with Istio's dialer through meshfed's
// server. Istio's dialer hands the caller one end of a net.Pipe, which has no half-close:
// closing it is its FIN, which must reach the upstream as a clean EOF after the data; the
// upstream's FIN must reach the caller as EOF.
func TestIstioDialerThroughMeshfedServer(t *testing.T) {
	p := newPKI(t)
	// Istio's dialer checks the server's certificate against the address it dials.
	server := p.material(t, "meshfed-waypoint", "west", "127.0.0.1")
	type upload struct {
		data []byte
		err  error
	}
	uploads := make(chan upload, 1)
	echoThenRecord := upstream(t, func(c *net.TCPConn) {
		buf := make([]byte, 4)
		if _, err := io.ReadFull(c, buf); err != nil {
			uploads <- upload{err: err}
			return
		}
		_, _ = c.Write([]byte("pong"))
		rest, err := io.ReadAll(c)
		uploads <- upload{append(buf, rest...), err}
	})
	closer := upstream(t, func(c *net.TCPConn) {
		_, _ = c.Write([]byte("bye"))
		_ = c.CloseWrite()
		_, _ = io.Copy(io.Discard, c)
	})
	addr := startMeshfedServer(t, identity.NewStaticSource(server), echoThenRecord, closer)
	d := istiohbone.NewDialer(istiohbone.Config{ProxyAddress: addr, TLS: p.istioClientTLS(p.material(t, "meshfed-waypoint", "east"))})

	c, err := d.DialContext(t.Context(), "tcp", echoThenRecord.String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	pong := make([]byte, 4)
	if _, err := io.ReadFull(c, pong); err != nil || string(pong) != "pong" {
		t.Fatalf("answer %q, %v", pong, err)
	}
	more := []byte(strings.Repeat("istio to meshfed ", 4096))
	if _, err := c.Write(more); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	select {
	case u := <-uploads:
		if u.err != nil || string(u.data) != "ping"+string(more) {
			t.Fatalf("upstream read %d bytes then %v, want %d then a clean EOF", len(u.data), u.err, 4+len(more))
		}
	case <-time.After(waitTimeout):
		t.Fatal("the upstream never saw the client's close")
	}

	c, err = d.DialContext(t.Context(), "tcp", closer.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got, err := readAllWithin(c, waitTimeout); err != nil || string(got) != "bye" {
		t.Fatalf("from a closing upstream: %q, %v; want bye then EOF", got, err)
	}

	// The target is the server's decision, whoever the client is.
	if c, err := d.DialContext(t.Context(), "tcp", "127.0.0.1:9"); err == nil {
		c.Close()
		t.Fatal("meshfed's server opened a tunnel to a target its handler does not allow")
	}
}

// TestIstioDialerRefused: meshfed's server refuses an Istio client without a certificate, or
// with one of another CA, before any tunnel; and Istio's dialer refuses meshfed's server when
// its certificate lacks the dialed address (issue it with --san).
//
// In TLS 1.3 the client finishes its handshake before the server checks the client's
// certificate, so a refused client may already be writing when the server's alert and close
// arrive: depending on that race it reports the alert, a reset, a broken pipe or an HTTP/2
// connection that could not be established. Where the server refuses, the reason is therefore
// read from the server's own log; where the client refuses, from the client's error.
func TestIstioDialerRefused(t *testing.T) {
	p := newPKI(t)
	other := newPKI(t)
	target := upstream(t, func(c *net.TCPConn) { _, _ = io.Copy(c, c) })
	var serverLog logBook
	withIP := startMeshfedServerLogging(t, identity.NewStaticSource(p.material(t, "meshfed-waypoint", "west", "127.0.0.1")), serverLog.logger(), target)
	withoutIP := startMeshfedServer(t, identity.NewStaticSource(p.material(t, "meshfed-waypoint", "west")), target)
	client := p.material(t, "meshfed-waypoint", "east")
	tests := []struct {
		name       string
		addr       string
		tls        *tls.Config
		serverSays string // the server's logged handshake error says this, if it refuses
		clientSays string // the client's error says this, if it refuses
	}{
		{name: "no client certificate", addr: withIP, tls: &tls.Config{RootCAs: p.roots, MinVersion: tls.VersionTLS13},
			serverSays: "client didn't provide a certificate"},
		{name: "client certificate of another CA", addr: withIP, tls: p.istioClientTLS(other.material(t, "meshfed-waypoint", "east")),
			serverSays: "certificate signed by unknown authority"},
		{name: "server certificate without the dialed IP", addr: withoutIP, tls: p.istioClientTLS(client),
			clientSays: "doesn't contain any IP SANs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := istiohbone.NewDialer(istiohbone.Config{ProxyAddress: tt.addr, TLS: tt.tls})
			c, err := d.DialContext(t.Context(), "tcp", target.String())
			if err == nil {
				c.Close()
				t.Fatal("tunnel opened")
			}
			if tt.clientSays != "" && !strings.Contains(err.Error(), tt.clientSays) {
				t.Fatalf("error %v, want one saying %q", err, tt.clientSays)
			}
			if tt.serverSays == "" {
				return
			}
			deadline := time.Now().Add(waitTimeout)
			for !strings.Contains(serverLog.String(), tt.serverSays) {
				if time.Now().After(deadline) {
					t.Fatalf("client saw %v; the server never logged a handshake refused with %q; its log:\n%s", err, tt.serverSays, serverLog.String())
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// TestIstioDialerWithSPIFFEVerification: given meshfed's identity.ClientConfig as its TLS
// configuration, Istio's dialer verifies the server by SPIFFE ID and cluster instead of by
// address, so a server certificate without IP SANs works, and one of the wrong cluster is
// refused.
func TestIstioDialerWithSPIFFEVerification(t *testing.T) {
	p := newPKI(t)
	target := upstream(t, func(c *net.TCPConn) { _, _ = io.Copy(c, c) })
	server := p.material(t, "meshfed-waypoint", "west")
	addr := startMeshfedServer(t, identity.NewStaticSource(server), target)
	client := identity.NewStaticSource(p.material(t, "meshfed-waypoint", "east"))
	for _, tt := range []struct {
		cluster string
		ok      bool
	}{{"west", true}, {"north", false}} {
		conf := identity.ClientConfig(client, identity.Workload{ID: server.ID, Cluster: tt.cluster}, nil)
		d := istiohbone.NewDialer(istiohbone.Config{ProxyAddress: addr, TLS: conf})
		c, err := d.DialContext(t.Context(), "tcp", target.String())
		if (err == nil) != tt.ok {
			t.Fatalf("server of west verified as %s: %v, want ok=%v", tt.cluster, err, tt.ok)
		}
		if err != nil {
			continue
		}
		if _, err := c.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 1)
		if _, err := io.ReadFull(c, b); err != nil || b[0] != 'x' {
			t.Fatalf("echo %q, %v", b, err)
		}
		c.Close()
	}
}

// TestIstioServerAnswersBeforeDialing documents a difference a meshfed dialer meets: Istio's
// server answers 200 before it dials the target, so an unreachable target is not a 503
// (KindUnavailable) but a tunnel that ends at once without data.
func TestIstioServerAnswersBeforeDialing(t *testing.T) {
	p := newPKI(t)
	server := p.material(t, "meshfed-waypoint", "west")
	addr := startIstioServer(t, p.istioServerTLS(server))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().(*net.TCPAddr).AddrPort()
	ln.Close()
	d := newMeshfedDialer(t, identity.NewStaticSource(p.material(t, "meshfed-waypoint", "east")))
	c, err := d.Dial(t.Context(), hbone.Peer{Address: addr, Identity: server.ID, Protocol: hbone.ProtocolH2}, closed, hbone.Metadata{})
	if err != nil {
		t.Fatalf("Dial: %v, want the 200 Istio's server sends before dialing", err)
	}
	defer c.Close()
	if got, _ := readAllWithin(c, waitTimeout); len(got) != 0 {
		t.Fatalf("read %q from an unreachable target", got)
	}
}
