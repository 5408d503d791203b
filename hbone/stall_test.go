package hbone

import (
	"context"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/meshfed/meshfed/e2e/netlab"
)

// TestStalledConnectionClosed: when the peer's link goes down, a tunnel open that times out on
// the pooled HTTP/2 connection finds the peer acknowledging nothing and closes the connection,
// so a tunnel already open on it fails at once instead of after the keepalive PINGs (10 s of
// silence, then 20 s); once the link is back, tunnels open again.
func TestStalledConnectionClosed(t *testing.T) {
	if testing.Short() {
		t.Skip("needs network namespaces (root); runs without -short")
	}
	lab := netlab.New(t)
	peerPod, err := lab.AddPod("peer", lab.Transit)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	pki := newTestPKI(t, "cluster.local")
	src := pki.source(t, "ns1", "waypoint")
	srv, err := NewServer(ServerOptions{Source: src, Logger: quietLogger, Handler: HandlerFunc(
		func(ctx context.Context, req *Request) (net.Conn, error) {
			if req.Target.Addr() != netip.MustParseAddr("127.0.0.1") {
				return nil, Deny(ReasonDenied)
			}
			var d net.Dialer
			return d.DialContext(ctx, "tcp", req.Target.String())
		})})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := peerPod.Listen(ctx, net.JoinHostPort(peerPod.Addr(lab.Transit).String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln, nil) }()
	t.Cleanup(func() { srv.Close(); <-done })

	target := upstream(t, echo) // the server's hook dials it from the test's own namespace
	d := newTestDialer(t, pki.source(t, "ns1", "client"), nil)
	peer := Peer{Address: ln.Addr().String(), Identity: src.Material().ID, Protocol: ProtocolH2}
	open, err := d.Dial(ctx, peer, target, Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	roundTrip(t, open, "before")

	if err := peerPod.SetLink(lab.Transit, false); err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	if _, err := open.Write([]byte("lost")); err != nil {
		t.Fatal(err)
	}
	readErr := make(chan error, 1)
	go func() {
		_, err := io.ReadFull(open, make([]byte, 4))
		readErr <- err
	}()
	dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	_, err = d.Dial(dctx, peer, target, Metadata{})
	cancel()
	if err == nil {
		t.Fatal("a tunnel opened across a downed link")
	}
	select {
	case err := <-readErr:
		if err == nil {
			t.Fatal("the open tunnel read data across a downed link")
		}
		t.Logf("open tunnel failed %s after the cut: %v", time.Since(cut).Round(time.Millisecond), err)
	case <-time.After(3 * time.Second):
		t.Fatalf("the open tunnel still waits %s after the cut (the stalled connection was not closed)", time.Since(cut).Round(time.Millisecond))
	}

	if err := peerPod.SetLink(lab.Transit, true); err != nil {
		t.Fatal(err)
	}
	var again *Conn
	if !waitFor(10*time.Second, func() bool {
		// A tunnel lives as long as the context it was opened with: this one until the test
		// ends, or until its dial gives up after a second.
		dctx, cancel := context.WithCancel(ctx)
		timer := time.AfterFunc(time.Second, cancel)
		again, err = d.Dial(dctx, peer, target, Metadata{})
		if !timer.Stop() || err != nil {
			cancel()
			return false
		}
		t.Cleanup(cancel)
		return true
	}) {
		t.Fatalf("no tunnel within 10s of the link coming back: %v", err)
	}
	defer again.Close()
	roundTrip(t, again, "after")
}

// roundTrip sends msg through c and expects it echoed back.
func roundTrip(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != msg {
		t.Fatalf("echo of %q = %q, %v", msg, got, err)
	}
}
