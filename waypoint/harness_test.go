package waypoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/federation/store/embedded"
	"github.com/meshfed/meshfed/internal/testport"
	"github.com/meshfed/meshfed/waypoint/internal/wptest"
	"github.com/meshfed/meshfed/waypoint/table"
)

// The shared test records, localities and clock (internal/wptest), by their names here.
var (
	testLogger      = wptest.Logger
	self            = wptest.Self
	sameZone        = wptest.SameZone
	otherZone       = wptest.OtherZone
	otherRegion     = wptest.OtherRegion
	otherNetwork    = wptest.OtherNetwork
	westWaypoint    = wptest.WestWaypoint
	northNetwork    = wptest.NorthNetwork
	southNetwork    = wptest.SouthNetwork
	newManualClock  = wptest.NewManualClock
	endpoint        = wptest.Endpoint
	service         = wptest.Service
	edit            = wptest.Edit
	endpoints       = wptest.Endpoints
	waypointsRecord = wptest.WaypointsRecord
	put             = wptest.Put
)

// manualClock is a Clock that moves only when told to.
type manualClock = wptest.ManualClock

// waitTimeout bounds every wait for the table or the network in these tests.
const waitTimeout = wptest.WaitTimeout

// freePort returns a TCP port on 127.0.0.1 for a listener the test starts later (a service
// port, etcd's): internal/testport keeps other sockets from taking it meanwhile.
func freePort(t testing.TB) int {
	t.Helper()
	return testport.TCP(t, "127.0.0.1")
}

// env is one test's federation store, store writer (the "hub") and running waypoint.
type env struct {
	t      *testing.T
	cfg    embedded.Config
	etcd   *embedded.Server
	writer *store.Writer
	wp     *Waypoint
	clock  *manualClock
}

// newEnv starts an embedded etcd on free loopback ports, a leading writer and a waypoint of
// namespace shop in cluster east listening on 127.0.0.1; everything stops when the test ends.
func newEnv(t *testing.T, tune func(*Options)) *env {
	t.Helper()
	e := &env{t: t, clock: newManualClock(), cfg: embedded.Config{
		DataDir:   t.TempDir(),
		ClientURL: "http://127.0.0.1:" + strconv.Itoa(freePort(t)),
		PeerURL:   "http://127.0.0.1:" + strconv.Itoa(freePort(t)),
		Logger:    testLogger,
	}}
	e.startEtcd()
	t.Cleanup(e.stopEtcd)
	e.writer = store.NewWriter(e.connect(), store.WriterOptions{Identity: "hub-test", SessionTTL: 5, Logger: testLogger})
	if err := e.writer.Campaign(t.Context()); err != nil {
		t.Fatalf("Campaign: %v", err)
	}
	opts := Options{
		Namespace: "shop", Cluster: "east", Locality: self, ListenHost: "127.0.0.1",
		ConnectTimeout: time.Second, Seed: 42, Clock: e.clock, Logger: testLogger,
		AllowLoopbackEndpoints: true, // every backend of these tests listens on 127.0.0.x
	}
	if tune != nil {
		tune(&opts)
	}
	wp, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.wp = wp
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	client := e.connect()
	go func() { done <- wp.Run(ctx, client) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("waypoint Run: %v", err)
		}
	})
	e.eventually("table ready", func() bool { return wp.Table().Ready() })
	return e
}

func (e *env) startEtcd() {
	srv, err := embedded.Start(e.t.Context(), e.cfg)
	if err != nil {
		e.t.Fatalf("embedded.Start: %v", err)
	}
	e.etcd = srv
}

func (e *env) stopEtcd() {
	if e.etcd != nil {
		e.etcd.Close()
		e.etcd = nil
	}
}

// connect opens a store client, closed when the test ends (before etcd stops).
func (e *env) connect() *store.Client {
	c, err := store.Connect(e.t.Context(), store.ClientConfig{Endpoints: e.etcd.Endpoints(), Logger: testLogger, DialTimeout: waitTimeout})
	if err != nil {
		e.t.Fatalf("Connect: %v", err)
	}
	e.t.Cleanup(func() { _ = c.Close() })
	return c
}

// put writes records as the hub would, retrying while the client reconnects to a restarted
// etcd.
func (e *env) put(records ...store.Record) {
	e.t.Helper()
	for _, r := range records {
		var err error
		for attempt := 0; attempt < 25; attempt++ {
			ctx, cancel := context.WithTimeout(e.t.Context(), 2*time.Second)
			_, err = e.writer.Put(ctx, r)
			cancel()
			if err == nil || errors.Is(err, store.ErrNotLeader) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if err != nil {
			e.t.Fatalf("Put %s: %v", r.Key(), err)
		}
	}
}

func (e *env) del(k store.Key) {
	e.t.Helper()
	if _, err := e.writer.Delete(e.t.Context(), k); err != nil {
		e.t.Fatalf("Delete %s: %v", k, err)
	}
}

// eventually polls cond every 10 ms until it holds, failing the test after waitTimeout.
func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitRoute waits until the route on port satisfies cond (a nil route is passed as nil).
func (e *env) waitRoute(what string, port int32, cond func(*table.Route) bool) {
	e.t.Helper()
	e.eventually(what, func() bool { return cond(e.wp.Table().View().Route(port)) })
}

// backend is a TCP echo server bound on its own loopback address: it greets with its name and
// a newline, echoes everything until EOF, then half-closes.
type backend struct {
	name     string
	ip       string
	port     int32
	l        net.Listener
	accepted atomic.Int64
}

func startBackend(t *testing.T, name, ip string) *backend {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("failed to listen on %s: %v", ip, err)
	}
	b := &backend{name: name, ip: ip, port: int32(l.Addr().(*net.TCPAddr).Port), l: l}
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			b.accepted.Add(1)
			wg.Go(func() { b.echo(c.(*net.TCPConn)) })
		}
	})
	return b
}

func (b *backend) echo(c *net.TCPConn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(waitTimeout))
	if _, err := io.WriteString(c, b.name+"\n"); err != nil {
		return
	}
	if _, err := io.Copy(c, c); err != nil {
		return
	}
	_ = c.CloseWrite()
}

// deadAddress returns a port on the loopback ip that nothing listens on: connects are
// refused (internal/testport keeps other sockets from taking it).
func deadAddress(t *testing.T, ip string) int32 {
	t.Helper()
	return int32(testport.TCP(t, ip))
}

func (b *backend) endpoint(loc model.Locality) model.Endpoint { return endpoint(b.ip, b.port, loc) }

// roundTrip connects through the waypoint port, sends a line, half-closes and reads the reply:
// the name of the backend that answered. It fails when the echo is not exact.
func roundTrip(port int32) (string, error) { return roundTripAt("127.0.0.1", port) }

// roundTripAt is roundTrip through the waypoint port on host.
func roundTripAt(host string, port int32) (string, error) {
	c, err := net.DialTimeout("tcp", net.JoinHostPort(host, strconv.Itoa(int(port))), waitTimeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(waitTimeout))
	const msg = "ping\n"
	if _, err := io.WriteString(c, msg); err != nil {
		return "", err
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return "", err
	}
	reply, err := io.ReadAll(c)
	if err != nil {
		return "", err
	}
	name, rest, ok := strings.Cut(string(reply), "\n")
	if !ok || rest != msg {
		return "", fmt.Errorf("bad reply %q", reply)
	}
	return name, nil
}

// spread makes n round trips, 4 at a time, and counts the answers by backend name; failures
// are counted under "".
func spread(t *testing.T, port int32, n int) map[string]int {
	t.Helper()
	var mu sync.Mutex
	counts := make(map[string]int)
	var firstErr error
	var wg sync.WaitGroup
	jobs := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for range jobs {
				name, err := roundTrip(port)
				mu.Lock()
				counts[name]++
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		t.Logf("first failed round trip: %v", firstErr)
	}
	return counts
}

func itoa(p int32) string { return strconv.Itoa(int(p)) }
