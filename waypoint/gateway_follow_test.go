package waypoint

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/hbone/identity"
)

// clientLog is a StoreConnector on the env's store that keeps every client it opened, by
// scope, and can hold the connection of one scope back until released.
type clientLog struct {
	e       *env
	mu      sync.Mutex
	opened  map[string][]*store.Client
	holdFor string
	release chan struct{}
}

func (l *clientLog) connect(ctx context.Context, scope string) (*store.Client, error) {
	if scope == l.holdFor {
		select {
		case <-l.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	c, err := l.e.connector()(ctx, scope)
	if err == nil {
		l.mu.Lock()
		l.opened[scope] = append(l.opened[scope], c)
		l.mu.Unlock()
	}
	return c, err
}

// open counts the clients of scope that still answer a read within a second (a closed one
// fails, after the etcd client's retries).
func (l *clientLog) open(t *testing.T, scope string) int {
	t.Helper()
	l.mu.Lock()
	clients := slices.Clone(l.opened[scope])
	l.mu.Unlock()
	n := 0
	for _, c := range clients {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		if _, err := c.Revision(ctx); err == nil {
			n++
		}
		cancel()
	}
	return n
}

// runFollowing runs a gateway of cluster west that follows its store record, through l,
// stopped when the test ends.
func runFollowing(t *testing.T, e *env, opts GatewayOptions, l *clientLog) *Gateway {
	t.Helper()
	opts.Namespaces, opts.FollowRecord, opts.RecordPollInterval = nil, true, 20*time.Millisecond
	opts.Seed, opts.Clock, opts.Logger, opts.AllowLoopbackEndpoints = 7, e.clock, testLogger, true
	g, err := NewGateway(opts)
	if err != nil {
		t.Fatalf("NewGateway: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx, l.connect) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway Run: %v", err)
		}
	})
	return g
}

// running counts the goroutines whose stack holds fn.
func running(fn string) int {
	buf := make([]byte, 1<<22)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), fn+"(")
}

// TestGatewayFollowsItsRecord: a gateway that follows its store record serves nothing, and is
// not ready, before the record exists; ready once it lists nothing; then serves shop when the
// record adds it (traffic through shop's listener, a tunnel to shop's endpoint), then bank too,
// staying ready; when the record drops shop, shop's listener keeps accepting for the shutdown
// delay, then closes while a connection in flight goes on until the drain timeout; tunnels to
// shop's endpoint are refused target-not-served, and shop's store client, table, listeners and
// tunnel re-checks are gone while bank's run on.
func TestGatewayFollowsItsRecord(t *testing.T) {
	pki := newTestPKI(t)
	e := newEnv(t, nil)
	l := &clientLog{e: e, opened: map[string][]*store.Client{}}
	opts := gatewayOptions(t, pki)
	opts.Drain = DrainOptions{ShutdownDelay: time.Second, Timeout: 2 * time.Second}
	g := runFollowing(t, e, opts, l)
	key := store.GatewayKey("west", gatewayNS)
	e.eventually("the gateway's HBONE server", func() bool { return g.Inbound().Addr() != "" })
	e.eventually("the record read, absent", func() bool {
		return g.readiness() == "no gateway record "+key.String()+" in the store yet"
	})
	tables, outbounds, watchers := running("waypoint/table.(*Table).Run"), running("waypoint.(*Outbound).Run"), running("store.(*Watcher).run")

	e.put(&store.GatewayRecord{Cluster: "west", Namespace: gatewayNS})
	e.eventually("ready serving nothing", func() bool { return g.readiness() == "" })

	shop, bank := startBackend(t, "shop-west", "127.0.0.51"), startBackend(t, "bank-west", "127.0.0.53")
	shopPort, bankPort := int32(freePort(t)), int32(freePort(t))
	imports := []model.Import{{Cluster: "west", From: []string{"west"}}, {Cluster: "east", From: []string{"west"}}}
	e.put(
		nsService("shop", "echo", shopPort, imports...), nsEndpoints("shop", "echo", "west", shop.endpoint(otherNetwork)),
		nsService("bank", "echo", bankPort, imports...), nsEndpoints("bank", "echo", "west", bank.endpoint(otherNetwork)),
	)
	e.put(&store.GatewayRecord{Cluster: "west", Namespace: gatewayNS, Serves: []string{"shop"}})
	e.eventually("shop's listener", func() bool { o := g.Outbound("shop"); return o != nil && slices.Contains(o.Ports(), shopPort) })
	if got, err := roundTripAt("127.0.0.62", shopPort); err != nil || got != "shop-west" {
		t.Fatalf("through the gateway's shop listener: %q, %v", got, err)
	}
	gw, src := g.Inbound().Addr(), pki.waypointSource(t, "east")
	target := func(b *backend) netip.AddrPort { return netip.AddrPortFrom(netip.MustParseAddr(b.ip), uint16(b.port)) }
	if got, err := tunnelEcho(t, src, gw, target(shop)); err != nil || got != "shop-west" {
		t.Fatalf("tunnel to shop's endpoint: %q, %v", got, err)
	}
	if _, err := tunnelTo(t, src, gw, target(bank)); !refusedWith(err, ReasonTargetNotServed) {
		t.Fatalf("tunnel to bank's endpoint before bank is served: %v, want %s", err, ReasonTargetNotServed)
	}

	e.put(&store.GatewayRecord{Cluster: "west", Namespace: gatewayNS, Serves: []string{"bank", "shop"}})
	e.eventually("bank's listener", func() bool { o := g.Outbound("bank"); return o != nil && slices.Contains(o.Ports(), bankPort) })
	if got, err := roundTripAt("127.0.0.62", bankPort); err != nil || got != "bank-west" {
		t.Fatalf("through the gateway's bank listener: %q, %v", got, err)
	}
	if got, err := tunnelEcho(t, pki.source(t, "bank", ServiceAccount, "east"), gw, target(bank)); err != nil || got != "bank-west" {
		t.Fatalf("tunnel to bank's endpoint: %q, %v", got, err)
	}
	if why := g.readiness(); why != "" {
		t.Fatalf("readiness serving shop and bank: %q", why)
	}
	if n := l.open(t, store.NamespacePrefix("shop")); n != 1 {
		t.Fatalf("%d open store clients of shop, want 1", n)
	}
	checkServedMetrics(t, g, "bank", "shop")

	// A connection in flight through shop's listener when the record drops shop.
	inFlight, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.62", itoa(shopPort)), waitTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer inFlight.Close()
	r := bufio.NewReader(inFlight)
	if line, err := r.ReadString('\n'); err != nil || line != "shop-west\n" {
		t.Fatalf("in-flight greeting: %q, %v", line, err)
	}
	e.put(&store.GatewayRecord{Cluster: "west", Namespace: gatewayNS, Serves: []string{"bank"}})
	removed := time.Now()
	e.eventually("shop no longer served", func() bool { return g.Table("shop") == nil })
	if got, err := roundTripAt("127.0.0.62", shopPort); err != nil || got != "shop-west" {
		t.Fatalf("shop's listener during the shutdown delay: %q, %v", got, err)
	}
	e.eventually("shop's listener closed", func() bool {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.62", itoa(shopPort)), time.Second)
		if err == nil {
			_ = c.Close()
		}
		return err != nil
	})
	if d := time.Since(removed); d < 900*time.Millisecond {
		t.Fatalf("shop's listener closed %s after its removal, before the shutdown delay", d)
	}
	if _, err := tunnelTo(t, src, gw, target(shop)); !refusedWith(err, ReasonTargetNotServed) {
		t.Fatalf("tunnel to shop's endpoint once shop is drained: %v, want %s", err, ReasonTargetNotServed)
	}
	if _, err := io.WriteString(inFlight, "still\n"); err != nil {
		t.Fatalf("in-flight connection after shop's listener closed: %v", err)
	}
	if line, err := r.ReadString('\n'); err != nil || line != "still\n" {
		t.Fatalf("in-flight echo after shop's listener closed: %q, %v", line, err)
	}
	_ = inFlight.SetReadDeadline(removed.Add(opts.Drain.ShutdownDelay + opts.Drain.Timeout + 2*time.Second))
	if _, err := r.ReadString('\n'); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the in-flight connection after the drain timeout: %v, want it closed", err)
	}
	e.eventually("shop's store client closed", func() bool { return l.open(t, store.NamespacePrefix("shop")) == 0 })
	e.eventually("shop's goroutines gone", func() bool {
		return running("waypoint/table.(*Table).Run") == tables+1 && running("waypoint.(*Outbound).Run") == outbounds+1 &&
			running("store.(*Watcher).run") == watchers+1 && running("waypoint.(*namespaceInbound).revokeLoop") == 1
	})
	if got, err := roundTripAt("127.0.0.62", bankPort); err != nil || got != "bank-west" {
		t.Fatalf("bank after shop left: %q, %v", got, err)
	}
	if why := g.readiness(); why != "" || !slices.Equal(g.Namespaces(), []string{"bank"}) {
		t.Fatalf("after shop left: readiness %q, serving %v", why, g.Namespaces())
	}
	checkServedMetrics(t, g, "bank")
	if n := l.open(t, key.String()); n != 1 {
		t.Fatalf("%d open clients of the gateway record, want 1", n)
	}
}

// tunnelEcho opens a tunnel with src's credentials through the HBONE server at addr to
// target, a backend, and returns the name it greets with.
func tunnelEcho(t *testing.T, src identity.Source, addr string, target netip.AddrPort) (string, error) {
	t.Helper()
	c, err := tunnelTo(t, src, addr, target)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(waitTimeout))
	r := bufio.NewReader(c)
	name, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if _, err := io.WriteString(c, "ping\n"); err != nil {
		return "", err
	}
	if echo, err := r.ReadString('\n'); err != nil || echo != "ping\n" {
		return "", fmt.Errorf("echo %q: %w", echo, err)
	}
	return strings.TrimSuffix(name, "\n"), nil
}

// checkServedMetrics reads the gateway's /metrics: the namespaces served, and only those,
// have their series.
func checkServedMetrics(t *testing.T, g *Gateway, served ...string) {
	t.Helper()
	srv := httptest.NewServer(g.Admin())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics = %d %s", resp.StatusCode, body)
	}
	for _, ns := range []string{"bank", "shop"} {
		want := slices.Contains(served, ns)
		if got := strings.Contains(string(body), `meshfed_waypoint_store_revision{namespace="`+ns+`"}`); got != want {
			t.Errorf("/metrics has %s's series: %v, want %v", ns, got, want)
		}
	}
}

// TestGatewayFollowingReadiness: a gateway that follows its record is ready only once every
// namespace the record lists when first read has synced (shop's store client held back until
// then), and fails readiness from the start of a drain.
func TestGatewayFollowingReadiness(t *testing.T) {
	pki := newTestPKI(t)
	e := newEnv(t, nil)
	e.put(&store.GatewayRecord{Cluster: "west", Namespace: gatewayNS, Serves: []string{"bank", "shop"}})
	l := &clientLog{e: e, opened: map[string][]*store.Client{}, holdFor: store.NamespacePrefix("shop"), release: make(chan struct{})}
	opts := gatewayOptions(t, pki)
	opts.Drain = DrainOptions{ShutdownDelay: 200 * time.Millisecond, Timeout: time.Second}
	opts.Namespaces, opts.FollowRecord, opts.RecordPollInterval = nil, true, 20*time.Millisecond
	opts.Clock, opts.Logger, opts.AllowLoopbackEndpoints = e.clock, testLogger, true
	g, err := NewGateway(opts)
	if err != nil {
		t.Fatalf("NewGateway: %v", err)
	}
	if why := g.readiness(); why != "gateway record /meshfed/v1/gateways/west/meshfed-system not read from the store yet" {
		t.Fatalf("readiness before Run: %q", why)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx, l.connect) }()
	e.eventually("bank synced", func() bool { t := g.Table("bank"); return t != nil && t.Ready() })
	time.Sleep(100 * time.Millisecond) // several reads of the record
	if why := g.readiness(); why != "namespace shop: endpoint table not synced with the store yet" {
		t.Fatalf("readiness while shop's store client is held back: %q", why)
	}
	close(l.release)
	e.eventually("ready", func() bool { return g.readiness() == "" })
	cancel()
	e.eventually("draining", g.Draining)
	if why := g.readiness(); why != "draining" {
		t.Fatalf("readiness while draining: %q", why)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Run did not return after the drain")
	}
	if n, m := l.open(t, store.NamespacePrefix("shop")), l.open(t, store.NamespacePrefix("bank")); n+m != 0 {
		t.Fatalf("store clients left open after Run: shop %d, bank %d", n, m)
	}
}
