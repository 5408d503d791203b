package waypoint

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/waypoint/table"
)

// serveOne starts a listener on ip whose first connection is handled by handle.
func serveOne(t *testing.T, ip string, handle func(*net.TCPConn)) int32 {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("failed to listen on %s: %v", ip, err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = l.Close(); wg.Wait() })
	wg.Go(func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(waitTimeout))
		handle(c.(*net.TCPConn))
	})
	return int32(l.Addr().(*net.TCPAddr).Port)
}

func dialWaypoint(t *testing.T, port int32) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(int(port)), waitTimeout)
	if err != nil {
		t.Fatalf("dial waypoint port %d: %v", port, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(waitTimeout))
	return c.(*net.TCPConn)
}

func TestHalfCloseCarriedBothWays(t *testing.T) {
	e := newEnv(t, nil)
	payload := make([]byte, 1<<20)
	_, _ = rand.Read(payload)
	tests := []struct {
		name string
		// backend serves the upstream side; client drives the waypoint side and checks.
		backend func(t *testing.T, c *net.TCPConn, got chan<- []byte)
		client  func(t *testing.T, c *net.TCPConn, got <-chan []byte)
	}{
		{
			name: "client finishes first",
			backend: func(_ *testing.T, c *net.TCPConn, got chan<- []byte) {
				data, _ := io.ReadAll(c) // returns only once the client's FIN arrived
				got <- data
				_, _ = c.Write(data)
				_ = c.CloseWrite()
			},
			client: func(t *testing.T, c *net.TCPConn, got <-chan []byte) {
				if _, err := c.Write(payload); err != nil {
					t.Fatalf("write: %v", err)
				}
				if err := c.CloseWrite(); err != nil {
					t.Fatalf("CloseWrite: %v", err)
				}
				if up := <-got; !bytes.Equal(up, payload) {
					t.Fatalf("backend received %d bytes, want %d", len(up), len(payload))
				}
				back, err := io.ReadAll(c)
				if err != nil || !bytes.Equal(back, payload) {
					t.Fatalf("client received %d bytes (%v), want the %d sent", len(back), err, len(payload))
				}
			},
		},
		{
			name: "server finishes first",
			backend: func(_ *testing.T, c *net.TCPConn, got chan<- []byte) {
				_, _ = c.Write(payload)
				_ = c.CloseWrite()
				data, _ := io.ReadAll(c) // the client keeps sending after our FIN
				got <- data
			},
			client: func(t *testing.T, c *net.TCPConn, got <-chan []byte) {
				down, err := io.ReadAll(c)
				if err != nil || !bytes.Equal(down, payload) {
					t.Fatalf("client received %d bytes (%v) before EOF, want %d", len(down), err, len(payload))
				}
				if _, err := c.Write(payload[:64<<10]); err != nil {
					t.Fatalf("write after the server's FIN: %v", err)
				}
				_ = c.CloseWrite()
				if up := <-got; !bytes.Equal(up, payload[:64<<10]) {
					t.Fatalf("backend received %d bytes after its FIN, want %d", len(up), 64<<10)
				}
			},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan []byte, 1)
			ip := "127.0.0.4" + strconv.Itoa(i)
			bport := serveOne(t, ip, func(c *net.TCPConn) { tt.backend(t, c, got) })
			port := int32(freePort(t))
			target := net.JoinHostPort(ip, strconv.Itoa(int(bport)))
			e.put(endpoints("east", endpoint(ip, bport, sameZone)), service(port, model.ModeAny))
			e.waitRoute("route to "+target, port, func(r *table.Route) bool { return r != nil && slices.Equal(r.Targets, []string{target}) })
			e.eventually("listener", func() bool { return slices.Contains(e.wp.Outbound().Ports(), port) })
			tt.client(t, dialWaypoint(t, port), got)
		})
	}
}

func TestListenersFollowServicesAndOpenConnectionsFinish(t *testing.T) {
	e := newEnv(t, nil)
	a := startBackend(t, "a", "127.0.0.11")
	port := int32(freePort(t))
	svc := service(port, model.ModeAny)
	eps := endpoints("east", a.endpoint(sameZone))
	e.put(eps, svc)
	e.waitRoute("route", port, func(r *table.Route) bool { return r != nil && len(r.Endpoints) == 1 })
	e.eventually("listener opened", func() bool { return slices.Contains(e.wp.Outbound().Ports(), port) })

	c := dialWaypoint(t, port)
	r := bufio.NewReader(c)
	if greeting, err := r.ReadString('\n'); err != nil || greeting != "a\n" {
		t.Fatalf("greeting = %q, %v", greeting, err)
	}
	// Withdraw the endpoint, then the service: new connections find nothing, the open one goes on.
	e.del(eps.Key())
	e.waitRoute("endpoint withdrawn", port, func(r *table.Route) bool { return r != nil && len(r.Endpoints) == 0 })
	if name, err := roundTrip(port); err == nil {
		t.Fatalf("a new connection without endpoints was answered by %s", name)
	}
	e.del(svc.Key())
	e.eventually("listener closed", func() bool { return !slices.Contains(e.wp.Outbound().Ports(), port) })
	if nc, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(int(port)), time.Second); err == nil {
		_ = nc.Close()
		t.Fatal("the withdrawn service's port still accepts connections")
	}
	if _, err := io.WriteString(c, "still here\n"); err != nil {
		t.Fatalf("write on the open connection: %v", err)
	}
	_ = c.CloseWrite()
	rest, err := io.ReadAll(r)
	if err != nil || string(rest) != "still here\n" {
		t.Fatalf("open connection after withdrawal: %q, %v", rest, err)
	}

	// The service comes back: the listener reopens.
	e.put(eps, svc)
	e.waitRoute("route back", port, func(r *table.Route) bool { return r != nil && len(r.Endpoints) == 1 })
	e.eventually("listener reopened", func() bool { return slices.Contains(e.wp.Outbound().Ports(), port) })
	if name, err := roundTrip(port); err != nil || name != "a" {
		t.Fatalf("after re-adding: %q, %v", name, err)
	}
}

func TestConnectionsFlowThroughStoreOutage(t *testing.T) {
	e := newEnv(t, nil)
	a, f := startBackend(t, "a", "127.0.0.11"), startBackend(t, "f", "127.0.0.16")
	port := int32(freePort(t))
	e.put(service(port, model.ModeAny), endpoints("east", a.endpoint(sameZone)))
	e.waitRoute("route", port, func(r *table.Route) bool { return r != nil && len(r.Endpoints) == 1 })
	e.eventually("listener", func() bool { return slices.Contains(e.wp.Outbound().Ports(), port) })
	rev := e.wp.Table().Revision()

	stopped := time.Now()
	e.stopEtcd()
	if counts := spread(t, port, 50); counts["a"] != 50 {
		t.Fatalf("during the store outage: %v, want all 50 on a", counts)
	}
	if got := e.wp.Table().Revision(); got != rev {
		t.Fatalf("revision moved from %d to %d while etcd was down", rev, got)
	}
	t.Logf("etcd stopped in %s (it waits for the open watch streams)", time.Since(stopped).Round(time.Millisecond))
	e.startEtcd() // same data dir and ports
	e.put(endpoints("east", a.endpoint(sameZone), f.endpoint(sameZone)))
	t.Logf("first write after restart %s after the stop", time.Since(stopped).Round(time.Millisecond))
	e.waitRoute("new endpoint after restart", port, func(r *table.Route) bool { return r != nil && len(r.Endpoints) == 2 })
	t.Logf("table caught up %s after the stop, revision %d → %d", time.Since(stopped).Round(time.Millisecond), rev, e.wp.Table().Revision())
	counts := spread(t, port, 100)
	t.Logf("after restart: %v", counts)
	if counts[""] != 0 || counts["f"] < 20 {
		t.Fatalf("after restart: %v, want no failure and the new endpoint f to take about half", counts)
	}
}
