package hbone

import (
	"context"
	"errors"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestAbuse attacks one server and checks after each attack that a well-behaved client is
// still served and that goroutines and heap stay bounded.
func TestAbuse(t *testing.T) {
	pki := newTestPKI(t, testTrustDomain)
	// The handshake timeout ends the slowloris handshakes; the good client's own handshakes
	// must fit in it too, so it leaves room for a loaded machine.
	const handshakeTimeout = 2 * time.Second
	ts := startServer(t, pki, serverConfig{limits: Limits{HandshakeTimeout: handshakeTimeout, MaxHeaderBytes: 8 << 10}})
	target := upstream(t, echo)
	good := newTestDialer(t, pki.source(t, "ns1", "good"), nil)
	src := pki.source(t, "ns1", "attacker")
	baseline := runtime.NumGoroutine()
	attacks := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"rapid reset", func(t *testing.T) {
			for _, p := range protocols {
				d := newTestDialer(t, src, nil)
				for i := range 500 {
					ctx, cancel := context.WithCancel(t.Context())
					if i%2 == 0 {
						cancel() // reset before the answer
					}
					if c, err := d.Dial(ctx, peerOf(ts, p), target, Metadata{}); err == nil {
						c.Close() // reset right after the answer
					}
					cancel()
				}
			}
		}},
		{"oversized headers", func(t *testing.T) {
			hdr := http.Header{"X-Junk": {strings.Repeat("a", 64<<10)}}
			resp, err := rawConnectH2(t.Context(), ts.addr, src, target.String(), hdr)
			if err == nil && resp.StatusCode == http.StatusOK {
				t.Fatal("64 KiB of headers accepted")
			}
		}},
		{"slowloris handshakes", func(t *testing.T) {
			var conns []net.Conn
			defer func() {
				for _, c := range conns {
					c.Close()
				}
			}()
			// From another source than the good client's: connections over the source's
			// handshake cap are reset, the others time out.
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
			for range 200 {
				c, err := d.Dial("tcp", ts.addr)
				if err != nil {
					continue // reset at once: over the cap
				}
				c.Write([]byte{0x16, 0x03, 0x01}) // the start of a ClientHello, then silence
				conns = append(conns, c)
			}
			serveGood(t, good, ts, target)
			var wg sync.WaitGroup
			for _, c := range conns {
				wg.Go(func() {
					c.SetReadDeadline(time.Now().Add(handshakeTimeout + waitTimeout/2))
					b := make([]byte, 64)
					for {
						if _, err := c.Read(b); err != nil {
							if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
								t.Errorf("server kept a stalled handshake open for %s, its handshake timeout %s", handshakeTimeout+waitTimeout/2, handshakeTimeout)
							}
							return
						}
					}
				})
			}
			wg.Wait()
		}},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			var before runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			a.run(t)
			serveGood(t, good, ts, target)
			if !waitFor(waitTimeout, func() bool { return runtime.NumGoroutine() < baseline+50 }) {
				t.Fatalf("goroutines %d after attack, baseline %d", runtime.NumGoroutine(), baseline)
			}
			var after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&after)
			if grown := int64(after.HeapInuse) - int64(before.HeapInuse); grown > 64<<20 {
				t.Fatalf("heap grew by %d MiB", grown>>20)
			}
		})
	}
}

func serveGood(t *testing.T, d *Dialer, ts *testServer, target interface{ String() string }) {
	t.Helper()
	for _, p := range protocols {
		c, err := d.Dial(t.Context(), peerOf(ts, p), mustParseAuthority(target.String()), Metadata{})
		if err != nil {
			t.Fatalf("good client refused after attack: %v", err)
		}
		echoOnce(t, c, "still serving")
		c.Close()
	}
}
