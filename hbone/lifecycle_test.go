package hbone

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/meshfed/meshfed/hbone/identity"
)

func writeCreds(t *testing.T, dir string, pki *testPKI, sa string) identity.ID {
	t.Helper()
	id, err := identity.WorkloadID(testTrustDomain, "ns1", sa)
	if err != nil {
		t.Fatal(err)
	}
	issued, err := pki.ca.Issue(identity.Workload{ID: id}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := identity.WriteFiles(dir, issued, pki.ca.CertPEM()); err != nil {
		t.Fatal(err)
	}
	return id
}

func fileSource(t *testing.T, dir string) *identity.FileSource {
	t.Helper()
	s, err := identity.NewFileSource(filepath.Join(dir, identity.CertFileName), filepath.Join(dir, identity.KeyFileName), filepath.Join(dir, identity.CAFileName), quietLogger)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRotation rotates the server's and the client's certificate files while tunnels are
// open: open tunnels keep working, new connections present the new certificates.
func TestRotation(t *testing.T) {
	pki := newTestPKI(t, testTrustDomain)
	serverDir, clientDir := t.TempDir(), t.TempDir()
	oldServer := writeCreds(t, serverDir, pki, "waypoint-v1")
	oldClient := writeCreds(t, clientDir, pki, "client-v1")
	serverSrc, clientSrc := fileSource(t, serverDir), fileSource(t, clientDir)
	callers := make(chan identity.ID, 16)
	hook := HandlerFunc(func(ctx context.Context, req *Request) (net.Conn, error) {
		callers <- req.Caller
		var d net.Dialer
		return d.DialContext(ctx, "tcp", req.Target.String())
	})
	ts := startServer(t, pki, serverConfig{source: serverSrc, handler: hook})
	target := upstream(t, echo)
	d := newTestDialer(t, clientSrc, nil)
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			open, err := d.Dial(t.Context(), Peer{Address: ts.addr, Identity: oldServer, Protocol: p}, target, Metadata{})
			if err != nil {
				t.Fatal(err)
			}
			defer open.Close()
			if got := <-callers; got != oldClient {
				t.Fatalf("caller %s, want %s", got, oldClient)
			}
			newServer := writeCreds(t, serverDir, pki, "waypoint-"+p.String())
			newClient := writeCreds(t, clientDir, pki, "client-"+p.String())
			for _, s := range []*identity.FileSource{serverSrc, clientSrc} {
				if changed, err := s.Reload(); err != nil || !changed {
					t.Fatalf("Reload = %v, %v", changed, err)
				}
			}
			echoOnce(t, open, "still open")
			fresh, err := d.Dial(t.Context(), Peer{Address: ts.addr, Identity: newServer, Protocol: p}, target, Metadata{})
			if err != nil {
				t.Fatalf("tunnel to rotated server identity: %v", err)
			}
			defer fresh.Close()
			if got := <-callers; got != newClient {
				t.Fatalf("new connection presented %s, want rotated %s", got, newClient)
			}
			echoOnce(t, fresh, "new cert")
			echoOnce(t, open, "old tunnel after new one")
			oldServer, oldClient = newServer, newClient
		})
	}
}

func echoOnce(t *testing.T, c *Conn, msg string) {
	t.Helper()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, len(msg))
	if _, err := io.ReadFull(c, b); err != nil || string(b) != msg {
		t.Fatalf("echo %q = %q, %v", msg, b, err)
	}
}

// TestH3FallsBackToH2 dials HTTP/3 to a server that does not answer QUIC: the first dial
// falls back to HTTP/2 once the QUIC handshake times out, the second goes to HTTP/2 at once.
// The server's UDP port is bound but never read, so the test sees every QUIC packet sent to it
// (not how long a dial took, which a loaded machine stretches).
func TestH3FallsBackToH2(t *testing.T) {
	pki := newTestPKI(t, testTrustDomain)
	ts := startServer(t, pki, serverConfig{silentUDP: true})
	target := upstream(t, echo)
	d := newTestDialer(t, pki.source(t, "ns1", "client"), func(o *Options) { o.H3HandshakeTimeout = 300 * time.Millisecond })
	for i := range 2 {
		c, err := d.Dial(t.Context(), peerOf(ts, ProtocolH3), target, Metadata{})
		if err != nil {
			t.Fatal(err)
		}
		if c.Protocol() != ProtocolH2 {
			t.Fatalf("Protocol = %s, want fallback to h2", c.Protocol())
		}
		echoOnce(t, c, "fallback")
		c.Close()
		// A QUIC attempt sends its Initial before it waits out the handshake timeout, so its
		// packets are in the socket by the time Dial returns.
		sent := drainDatagrams(t, ts.silentUDP)
		switch {
		case i == 0 && sent == 0:
			t.Fatal("the first dial sent no QUIC packet: HTTP/3 was not tried")
		case i == 1 && sent > 0:
			t.Fatalf("the second dial sent %d QUIC packets, want none: the peer is remembered as HTTP/2-only", sent)
		}
	}
	_, err := d.Dial(t.Context(), Peer{Address: ts.addr, Identity: ts.id, Protocol: ProtocolH3Only}, target, Metadata{})
	if k := KindOf(err); k != KindTimeout && k != KindUnreachable {
		t.Fatalf("h3-only to a server without UDP = %v, want timeout or unreachable", err)
	}
}

// drainDatagrams reads pc until it has been empty for 100 ms and returns how many datagrams
// it held.
func drainDatagrams(t *testing.T, pc net.PacketConn) int {
	t.Helper()
	buf := make([]byte, 64<<10)
	for n := 0; ; n++ {
		_ = pc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, _, err := pc.ReadFrom(buf); err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("read the silent UDP port: %v", err)
			}
			return n
		}
	}
}

// TestGracefulShutdown checks that Shutdown refuses new tunnels, lets open ones finish and
// then returns.
func TestGracefulShutdown(t *testing.T) {
	pki := newTestPKI(t, testTrustDomain)
	ts := startServer(t, pki, serverConfig{})
	target := upstream(t, echo)
	var open []*Conn
	for _, p := range protocols {
		d := newTestDialer(t, pki.source(t, "ns1", "client"), nil)
		c, err := d.Dial(t.Context(), peerOf(ts, p), target, Metadata{})
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, c)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*waitTimeout) // longer than the waits below
		defer cancel()
		done <- ts.srv.Shutdown(ctx)
	}()
	if !waitFor(waitTimeout, func() bool {
		d := newTestDialer(t, pki.source(t, "ns1", "late"), nil)
		c, err := d.Dial(t.Context(), peerOf(ts, ProtocolH2), target, Metadata{})
		if err == nil {
			// A connection accepted just before Shutdown may still carry a tunnel.
			c.Close()
		}
		return err != nil
	}) {
		t.Fatal("new tunnels still accepted during shutdown")
	}
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v with tunnels open", err)
	case <-time.After(100 * time.Millisecond):
	}
	if !waitFor(waitTimeout, func() bool { return ts.srv.ActiveTunnels() == 2 }) {
		t.Fatalf("ActiveTunnels = %d during drain, want 2", ts.srv.ActiveTunnels())
	}
	for _, c := range open {
		echoOnce(t, c, "draining")
		c.CloseWrite()
		if _, err := readAllWithin(c, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Shutdown = %v after tunnels finished", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Shutdown did not return after the tunnels finished")
	}
}

// TestNoGoroutineLeak runs tunnels on both transports, closes everything and checks that
// the goroutine count returns to where it started.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		pki := newTestPKI(t, testTrustDomain)
		srv, addr, stop := startBareServer(t, pki)
		defer stop()
		lnUp, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer lnUp.Close()
		go func() {
			for {
				c, err := lnUp.Accept()
				if err != nil {
					return
				}
				go func() { echo(c.(*net.TCPConn)); c.Close() }()
			}
		}()
		target := lnUp.Addr().(*net.TCPAddr).AddrPort()
		d, err := NewDialer(Options{Source: pki.source(t, "ns1", "client"), Logger: quietLogger})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		for _, p := range protocols {
			for range 10 {
				c, err := d.Dial(t.Context(), Peer{Address: addr, Protocol: p}, target, Metadata{})
				if err != nil {
					t.Fatal(err)
				}
				echoOnce(t, c, "leak?")
				c.Close()
			}
		}
		_ = srv
	}()
	if !waitFor(waitTimeout, func() bool { return runtime.NumGoroutine() <= before }) {
		buf := make([]byte, 1<<16)
		t.Fatalf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
	}
}

// startBareServer starts a server without t.Cleanup so that a test can stop it early.
func startBareServer(t *testing.T, pki *testPKI) (*Server, string, func()) {
	t.Helper()
	srv, err := NewServer(ServerOptions{Source: pki.source(t, "ns1", "waypoint"), Logger: quietLogger,
		Handler: HandlerFunc(func(ctx context.Context, req *Request) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", req.Target.String())
		})})
	if err != nil {
		t.Fatal(err)
	}
	tcp, udp, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.Serve(tcp, udp); close(done) }()
	return srv, tcp.Addr().String(), func() { srv.Close(); <-done }
}

// TestRotationRetiresPooledConnections rotates both certificates without changing either
// identity, as a renewal does: the pooled connection made with the old certificates carries no
// new tunnel (a new one is dialled, presenting the new certificate), its open tunnel runs on,
// and it is closed once that tunnel ends.
func TestRotationRetiresPooledConnections(t *testing.T) {
	pki := newTestPKI(t, testTrustDomain)
	serverDir, clientDir := t.TempDir(), t.TempDir()
	server := writeCreds(t, serverDir, pki, "waypoint")
	writeCreds(t, clientDir, pki, "client")
	serverSrc, clientSrc := fileSource(t, serverDir), fileSource(t, clientDir)
	ts := startServer(t, pki, serverConfig{source: serverSrc})
	target := upstream(t, echo)
	d := newTestDialer(t, clientSrc, nil)
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			peer := Peer{Address: ts.addr, Identity: server, Protocol: p}
			open, err := d.Dial(t.Context(), peer, target, Metadata{})
			if err != nil {
				t.Fatal(err)
			}
			writeCreds(t, clientDir, pki, "client")
			if changed, err := clientSrc.Reload(); err != nil || !changed {
				t.Fatalf("Reload = %v, %v", changed, err)
			}
			fresh, err := d.Dial(t.Context(), peer, target, Metadata{})
			if err != nil {
				t.Fatalf("tunnel after the rotation: %v", err)
			}
			if n := d.ConnCount(peer, p); n != 2 {
				t.Fatalf("%d pooled connections after the rotation, want 2 (the old one retired, not reused)", n)
			}
			echoOnce(t, open, "old tunnel runs on")
			echoOnce(t, fresh, "new tunnel")
			open.Close()
			fresh.Close()
			again, err := d.Dial(t.Context(), peer, target, Metadata{})
			if err != nil {
				t.Fatal(err)
			}
			defer again.Close()
			if n := d.ConnCount(peer, p); n != 1 {
				t.Fatalf("%d pooled connections once the old tunnel ended, want 1", n)
			}
		})
	}
}
