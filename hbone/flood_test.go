package hbone

import (
	"context"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// attackerIP is the source of every flood; the good clients of the tests dial from 127.0.0.1.
var attackerIP = net.IPv4(127, 0, 0, 2)

// partialHello is the start of a TLS ClientHello: a handshake that never goes on.
var partialHello = []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01}

// flood keeps up to n connections from attackerIP to addr open, writing hello (if any) on each
// and dialing again whenever the server closes one, until stop.
type flood struct {
	held, dials atomic.Int64
	cancel      context.CancelFunc
	wg          sync.WaitGroup
}

func startFlood(addr string, n int, hello []byte) *flood {
	return startFloodFrom(addr, n, hello, []net.IP{attackerIP})
}

// startFloodFrom is startFlood with the connections spread over sources.
func startFloodFrom(addr string, n int, hello []byte, sources []net.IP) *flood {
	ctx, cancel := context.WithCancel(context.Background())
	f := &flood{cancel: cancel}
	for i := range n {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: sources[i%len(sources)]}}
		f.wg.Go(func() {
			buf := make([]byte, 64)
			for ctx.Err() == nil {
				f.dials.Add(1)
				c, err := d.DialContext(ctx, "tcp", addr)
				if err != nil {
					time.Sleep(100 * time.Millisecond) // refused: try again soon
					continue
				}
				stop := context.AfterFunc(ctx, func() { c.Close() })
				if hello != nil {
					_, _ = c.Write(hello)
				}
				f.held.Add(1)
				for {
					if _, err := c.Read(buf); err != nil {
						break
					}
				}
				f.held.Add(-1)
				stop()
				c.Close()
			}
		})
	}
	return f
}

func (f *flood) stop() {
	f.cancel()
	f.wg.Wait()
}

// openTimes opens n tunnels one after the other, each on a new connection (a new Dialer), and
// returns how long each open took; it fails the test on the first failure.
func openTimes(t *testing.T, pki *testPKI, ts *testServer, target netip.AddrPort, p Protocol, n int) []time.Duration {
	t.Helper()
	src := pki.source(t, "ns1", "good")
	var took []time.Duration
	for i := range n {
		d := newTestDialer(t, src, nil)
		ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
		start := time.Now()
		c, err := d.Dial(ctx, Peer{Address: ts.addr, Protocol: onlyProtocol(p)}, target, Metadata{})
		cancel()
		if err != nil {
			t.Fatalf("good tunnel %d of %d refused during the flood: %v", i+1, n, err)
		}
		took = append(took, time.Since(start))
		echoOnce(t, c, "during the flood")
		c.Close()
		d.Close()
	}
	return took
}

// sourceLoad returns the connections the server's admission counts for src.
func (ts *testServer) sourceLoad(src net.IP) sourceLoad {
	a := ts.srv.adm
	a.mu.Lock()
	defer a.mu.Unlock()
	if l := a.sources[sourceOf(&net.TCPAddr{IP: src})]; l != nil {
		return *l
	}
	return sourceLoad{}
}

// TestFloodDoesNotStarveTunnels is the regression test for idle connections of one
// unauthenticated source filling the server's connection cap: more idle TCP connections (or
// stalled TLS handshakes) than MaxConnections, kept up by re-dialing, while a good client
// opens tunnels on fresh connections. The attacker holds at most MaxHandshakesPerSource
// connections; every good tunnel opens (within waitTimeout), their median within
// goodOpenBound (they take milliseconds on a quiet machine; before the per-source caps most
// were refused).
func TestFloodDoesNotStarveTunnels(t *testing.T) {
	const (
		maxConns      = 512
		attackers     = 600
		goodTunnels   = 10
		goodOpenBound = 3 * time.Second
	)
	for _, attack := range []struct {
		name  string
		hello []byte
	}{{"idle TCP", nil}, {"stalled TLS handshakes", partialHello}} {
		t.Run(attack.name, func(t *testing.T) {
			pki := newTestPKI(t, testTrustDomain)
			ts := startServer(t, pki, serverConfig{limits: Limits{MaxConnections: maxConns}})
			target := upstream(t, echo)
			quiet := openTimes(t, pki, ts, target, ProtocolH2, goodTunnels)
			slices.Sort(quiet)
			heapBefore := heapInuse()
			f := startFlood(ts.addr, attackers, attack.hello)
			defer f.stop()
			waitFor(waitTimeout, func() bool { return f.dials.Load() >= attackers })
			var took []time.Duration
			for _, p := range protocols {
				took = append(took, openTimes(t, pki, ts, target, p, goodTunnels)...)
			}
			held := ts.sourceLoad(attackerIP)
			heapDuring := heapInuse()
			slices.Sort(took)
			t.Logf("%d dials by the attacker, %d held by the server (%d in handshake); good tunnel opens: median %v, max %v (before the flood: %v, %v); heap %d -> %d MiB, RSS %d MiB",
				f.dials.Load(), held.conns, held.handshakes, took[len(took)/2], took[len(took)-1], quiet[len(quiet)/2], quiet[len(quiet)-1],
				heapBefore>>20, heapDuring>>20, rssBytes()>>20)
			if held.conns > DefaultMaxHandshakesPerSource {
				t.Errorf("the attacker holds %d connections, want at most %d", held.conns, DefaultMaxHandshakesPerSource)
			}
			// Starved tunnels would wait for the attacker's connections to time out, all of
			// them; on a loaded machine one open can also be slow without a flood (2.3 s before
			// it in one CI run), so the median carries the bound and the slowest is logged.
			if median := took[len(took)/2]; median > goodOpenBound {
				t.Errorf("good tunnels opened in a median of %v, want within %v", median, goodOpenBound)
			}
			if grown := int64(heapDuring) - int64(heapBefore); grown > 64<<20 {
				t.Errorf("heap grew by %d MiB under the flood", grown>>20)
			}
			if s := ts.srv.Stats(); s.RefusedHandshakes == 0 {
				t.Errorf("stats %+v: no connection refused at the handshake cap; the flood proves nothing", s)
			}
		})
	}
}

// TestHalfOpenTunnelsClosedByIdleTimeout: authenticated tunnels through which nothing passes
// are closed after TunnelIdleTimeout, releasing their upstream sockets, while a tunnel with
// traffic stays open.
func TestHalfOpenTunnelsClosedByIdleTimeout(t *testing.T) {
	const (
		idle    = time.Second
		tunnels = 50
	)
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			pki := newTestPKI(t, testTrustDomain)
			ts := startServer(t, pki, serverConfig{limits: Limits{TunnelIdleTimeout: idle}})
			type lifetime struct{ accepted, closed time.Time }
			lifetimes := make(chan lifetime, tunnels+1)
			// The upstream accepts and never writes; it sees when the server closes.
			silent := upstream(t, func(c *net.TCPConn) {
				l := lifetime{accepted: time.Now()}
				_, _ = io.Copy(io.Discard, c)
				l.closed = time.Now()
				lifetimes <- l
			})
			active := upstream(t, echo)
			d := newTestDialer(t, pki.source(t, "ns1", "client"), nil)
			peer := Peer{Address: ts.addr, Protocol: onlyProtocol(p)}
			var open []*Conn
			for range tunnels {
				c, err := d.Dial(t.Context(), peer, silent, Metadata{})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				open = append(open, c)
			}
			busy, err := d.Dial(t.Context(), peer, active, Metadata{})
			if err != nil {
				t.Fatal(err)
			}
			defer busy.Close()
			deadline := time.Now().Add(3 * idle)
			for time.Now().Before(deadline) {
				echoOnce(t, busy, "keepalive")
				time.Sleep(idle / 10)
			}
			for i := range tunnels {
				select {
				case l := <-lifetimes:
					// The upstream's accept may lag the tunnel's start by a few scheduling delays.
					if lived := l.closed.Sub(l.accepted); lived < idle-100*time.Millisecond {
						t.Fatalf("upstream closed after %v, before the idle timeout %v", lived, idle)
					}
				case <-time.After(waitTimeout):
					t.Fatalf("%d of %d idle tunnels still hold their upstream", tunnels-i, tunnels)
				}
			}
			echoOnce(t, busy, "still open")
			if s := ts.srv.Stats(); s.IdleTunnelsClosed != tunnels {
				t.Fatalf("IdleTunnelsClosed = %d, want %d", s.IdleTunnelsClosed, tunnels)
			}
			// The client's side of an idle tunnel ends too, with an error: it was cut.
			if _, err := readAllWithin(open[0], waitTimeout); err == nil && p == ProtocolH3 {
				t.Fatal("an idle h3 tunnel ended with a clean EOF")
			}
		})
	}
}

func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// rssBytes is the process's resident set size (Linux), 0 where it cannot be read.
func rssBytes() uint64 {
	return rssOf("self")
}

func rssOf(pid string) uint64 {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
