package waypoint

import (
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/hbone"
)

// relay forwards TCP connections from its own address to target; sever resets those it
// carries.
type relay struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	conns  []*net.TCPConn
	wg     sync.WaitGroup
}

func startRelay(t *testing.T, ip, target string) *relay {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("failed to listen on %s: %v", ip, err)
	}
	r := &relay{l: l, target: target}
	r.wg.Go(r.accept)
	t.Cleanup(func() {
		_ = l.Close()
		r.sever()
		r.wg.Wait()
	})
	return r
}

func (r *relay) addr() string { return r.l.Addr().String() }

func (r *relay) accept() {
	for {
		c, err := r.l.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", r.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		a, b := c.(*net.TCPConn), up.(*net.TCPConn)
		r.mu.Lock()
		r.conns = append(r.conns, a, b)
		r.mu.Unlock()
		r.wg.Go(func() { _, _ = io.Copy(a, b); _ = a.CloseWrite() })
		r.wg.Go(func() { _, _ = io.Copy(b, a); _ = b.CloseWrite() })
	}
}

// sever resets every connection relayed so far (both sides get RST), as when a peer's HTTP/2
// connection is torn down under its tunnels; connections made later are relayed again.
func (r *relay) sever() {
	r.mu.Lock()
	conns := r.conns
	r.conns = nil
	r.mu.Unlock()
	for _, c := range conns {
		_ = c.SetLinger(0)
		_ = c.Close()
	}
}

// TestHTTPOverHBONESurvivesLostConnection: the kept-alive connections of a per-request route
// to two endpoints on another network all ride tunnels of one HTTP/2 connection to the peer.
// When that connection is lost (reset here; closed by the stall watcher in a partition) while
// they sit idle, the next requests go on fresh tunnels instead of failing, try after try, on
// the dead ones: a flake of e2e TestFederation/member-api-stopped, where idle connections left
// from the partition subtest 30 s earlier failed three requests with 503.
func TestHTTPOverHBONESurvivesLostConnection(t *testing.T) {
	x := newXnet(t, hbone.ProtocolH2, nil)
	w1 := startHTTPBackend(t, "west-1", "127.0.0.51")
	w2 := startHTTPBackend(t, "west-2", "127.0.0.52")
	rl := startRelay(t, "127.0.0.63", x.west.Inbound().Addr())
	port := int32(freePort(t))
	svc := httpService(port, model.ModeAny, "http", "http")
	svc.Imports = serviceImportedBy(port, model.ModeAny, "east", "west").Imports
	x.put(svc, endpoints("west", w1.endpoint(otherNetwork), w2.endpoint(otherNetwork)), waypointsRecord("west", "n2", rl.addr()))
	x.waitTunneled(port, 2)
	c := newClient(t)
	// Slow answers overlap the requests, so each endpoint's pool ends up with several idle
	// connections: more than the tries of one request.
	for _, b := range []*httpBackend{w1, w2} {
		b.delay.Store(int64(20 * time.Millisecond))
	}
	if tl := requests(t, c, port, 200, 16); len(tl.failed) > 0 {
		t.Fatalf("%d of 200 requests failed before the connection was lost", len(tl.failed))
	}
	for _, b := range []*httpBackend{w1, w2} {
		b.delay.Store(0)
	}
	idle := x.west.Inbound().ActiveTunnels()
	if idle < 8 {
		t.Fatalf("%d tunnels after 200 slow requests 16 at a time, want several idle per endpoint", idle)
	}
	rl.sever()
	x.eventually("west's tunnels gone", func() bool { return x.west.Inbound().ActiveTunnels() == 0 })
	for i := range 20 {
		if r := get(t.Context(), c, port); r.err != nil || r.code != http.StatusOK {
			t.Errorf("request %d after the connection carrying %d idle tunnels was lost: %+v", i, idle, r)
		}
	}
}
