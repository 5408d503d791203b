package hbone

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"
)

// TestPoolFollowsStreamLimit holds 1,000 tunnels open at once and checks that the pool opened
// exactly as many connections as the stream limit requires.
func TestPoolFollowsStreamLimit(t *testing.T) {
	const tunnels, limit = 1000, 100
	pki := newTestPKI(t, testTrustDomain)
	ts := startServer(t, pki, serverConfig{limits: Limits{MaxConcurrentStreams: limit}})
	target := upstream(t, echo)
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			d := newTestDialer(t, pki.source(t, "ns1", "client"), func(o *Options) { o.MaxStreamsPerConn = limit })
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			conns := make([]*Conn, tunnels)
			errs := make([]error, tunnels)
			var wg sync.WaitGroup
			for i := range tunnels {
				wg.Go(func() { conns[i], errs[i] = d.Dial(ctx, peerOf(ts, p), target, Metadata{}) })
			}
			wg.Wait()
			defer func() {
				for _, c := range conns {
					if c != nil {
						c.Close()
					}
				}
			}()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("tunnel %d: %v", i, err)
				}
			}
			if got, want := d.ConnCount(peerOf(ts, p), p), tunnels/limit; got != want {
				t.Fatalf("pool holds %d connections for %d tunnels with limit %d, want %d", got, tunnels, limit, want)
			}
			if !waitFor(waitTimeout, func() bool { return ts.srv.ActiveTunnels() == tunnels }) {
				t.Fatalf("server has %d active tunnels, want %d", ts.srv.ActiveTunnels(), tunnels)
			}
			// Every tunnel still carries its own bytes.
			for i := 0; i < tunnels; i += 97 {
				if _, err := conns[i].Write([]byte{byte(i)}); err != nil {
					t.Fatal(err)
				}
				b := make([]byte, 1)
				if _, err := io.ReadFull(conns[i], b); err != nil || b[0] != byte(i) {
					t.Fatalf("tunnel %d echo = %v, %v", i, b, err)
				}
			}
		})
	}
}

// TestPoolReuseAndIdleRelease checks that sequential tunnels share one connection and that
// the connection is closed once idle. The sharing is checked with an idle timeout no pause
// of a loaded machine reaches (200 ms could release the connection between two tunnels, or
// before the count); the release with a short one.
func TestPoolReuseAndIdleRelease(t *testing.T) {
	pki := newTestPKI(t, testTrustDomain)
	ts := startServer(t, pki, serverConfig{})
	target := upstream(t, echo)
	tunnels := func(t *testing.T, d *Dialer, p Protocol, n int) {
		t.Helper()
		for range n {
			c, err := d.Dial(t.Context(), peerOf(ts, p), target, Metadata{})
			if err != nil {
				t.Fatal(err)
			}
			c.Close()
		}
	}
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			kept := newTestDialer(t, pki.source(t, "ns1", "client"), func(o *Options) { o.IdleTimeout = time.Minute })
			tunnels(t, kept, p, 5)
			if got := kept.ConnCount(peerOf(ts, p), p); got != 1 {
				t.Fatalf("ConnCount = %d after sequential tunnels, want 1", got)
			}
			released := newTestDialer(t, pki.source(t, "ns1", "client"), func(o *Options) { o.IdleTimeout = 200 * time.Millisecond })
			tunnels(t, released, p, 1)
			if !waitFor(waitTimeout, func() bool { return released.ConnCount(peerOf(ts, p), p) == 0 }) {
				t.Fatal("idle connection was not released")
			}
		})
	}
}

// TestOneDialPerKey checks that concurrent first tunnels to a peer share a single dial.
func TestOneDialPerKey(t *testing.T) {
	pki := newTestPKI(t, testTrustDomain)
	ts := startServer(t, pki, serverConfig{})
	target := upstream(t, echo)
	var accepted int
	var mu sync.Mutex
	d := newTestDialer(t, pki.source(t, "ns1", "client"), nil)
	inner := d.pool.dial
	d.pool.dial = func(ctx context.Context, key poolKey) (mux, func(time.Time) bool, error) {
		mu.Lock()
		accepted++
		mu.Unlock()
		time.Sleep(50 * time.Millisecond) // widen the window for concurrent callers
		return inner(ctx, key)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			c, err := d.Dial(t.Context(), peerOf(ts, ProtocolH2), target, Metadata{})
			if err != nil {
				t.Error(err)
				return
			}
			c.Close()
		})
	}
	wg.Wait()
	if accepted != 1 {
		t.Fatalf("dialed %d connections for 20 concurrent tunnels, want 1", accepted)
	}
}
