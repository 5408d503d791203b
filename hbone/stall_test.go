package hbone

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/meshfed/meshfed/e2e/netlab"
)

// TestStalledConnectionClosed: when the peer's link goes down, the pool's stall watcher finds
// the pooled HTTP/2 connection's peer acknowledging nothing and closes the connection after
// StallTimeout, without any tunnel open timing out first: a tunnel already open on it and a
// CONNECT waiting on it fail then, instead of after the keepalive PINGs (a minute here, so
// that nothing else can end them within the test's bound). Until a new connection completes,
// tunnel opens to the peer fail at once (errPeerStalled); once the link is back, tunnels open
// again. The figures are logged; the bound asserted is loose, for a loaded CI machine.
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
	d := newTestDialer(t, pki.source(t, "ns1", "client"), func(o *Options) {
		o.KeepAlive, o.KeepAliveTimeout = time.Minute, time.Minute
		o.DialTimeout = 3 * time.Second
	})
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
	readDone := make(chan error, 1)
	go func() {
		_, err := io.ReadFull(open, make([]byte, 4))
		readDone <- err
	}()
	dialDone := make(chan error, 1)
	go func() {
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		_, err := d.Dial(dctx, peer, target, Metadata{})
		dialDone <- err
	}()
	const bound = 15 * time.Second // loose: the PINGs would take a minute
	var readAfter, dialAfter time.Duration
	for readAfter == 0 || dialAfter == 0 {
		select {
		case err := <-readDone:
			if err == nil {
				t.Fatal("the open tunnel read data across a downed link")
			}
			readAfter = time.Since(cut)
		case err := <-dialDone:
			if err == nil {
				t.Fatal("a tunnel opened across a downed link")
			}
			dialAfter = time.Since(cut)
			t.Logf("the waiting CONNECT failed: %v", err)
		case <-time.After(bound - time.Since(cut)):
			t.Fatalf("%s after the cut the open tunnel (failed after %s) or the waiting CONNECT (failed after %s) still waits: the stalled connection was not closed",
				bound, readAfter, dialAfter)
		}
	}
	t.Logf("StallTimeout %s: the open tunnel failed %s after the cut, the waiting CONNECT %s after it",
		DefaultStallTimeout, readAfter.Round(time.Millisecond), dialAfter.Round(time.Millisecond))

	start := time.Now()
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	_, err = d.Dial(dctx, peer, target, Metadata{})
	cancel()
	if !errors.Is(err, errPeerStalled) {
		t.Fatalf("tunnel open right after the stall: %v, want %v", err, errPeerStalled)
	}
	mustKind(t, err, KindUnreachable)
	t.Logf("a tunnel open right after the stall failed in %s: %v", time.Since(start).Round(time.Microsecond), err)

	if err := peerPod.SetLink(lab.Transit, true); err != nil {
		t.Fatal(err)
	}
	var again *Conn
	if !waitFor(20*time.Second, func() bool {
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
		t.Fatalf("no tunnel within 20s of the link coming back: %v", err)
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
