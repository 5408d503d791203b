package waypoint

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/waypoint/table"
)

// TestGatewayServesNamespacesThroughOneAddress: a shared gateway of cluster west (network n2)
// serves shop and bank. East's own waypoints of shop and bank (network n1) reach west's
// endpoints of both through the gateway's one HBONE address, expecting the gateway's identity
// there; the gateway's outbound for shop reaches east's endpoint through east's shop
// waypoint, which admits the gateway because shop's record of west names it. Tunnels to a
// namespace the gateway does not serve, or into bank as shop, are refused.
func TestGatewayServesNamespacesThroughOneAddress(t *testing.T) {
	pki := newTestPKI(t)
	e := newEnv(t, withHBONE(pki.waypointSource(t, "east"), hbone.ProtocolH2, "127.0.0.3:0"))
	bankEast := e.startWaypoint(Options{
		Namespace: "bank", Cluster: "east", Locality: self, ListenHost: "127.0.0.2",
		HBONE: HBONEOptions{Identity: pki.source(t, "bank", ServiceAccount, "east")},
	})
	g := e.startGateway(gatewayOptions(t, pki, "shop", "bank"))
	gw := g.Inbound().Addr()
	shopWest, bankWest := startBackend(t, "shop-west", "127.0.0.51"), startBackend(t, "bank-west", "127.0.0.53")
	shopEast, stranger := startBackend(t, "shop-east", "127.0.0.52"), startBackend(t, "other-west", "127.0.0.54")
	shopPort, bankPort, cartPort := int32(freePort(t)), int32(freePort(t)), int32(freePort(t))
	fromWest, fromEast := model.Import{Cluster: "east", From: []string{"west"}}, model.Import{Cluster: "west", From: []string{"east"}}
	e.put(
		nsService("shop", "echo", shopPort, fromWest), nsEndpoints("shop", "echo", "west", shopWest.endpoint(otherNetwork)),
		nsService("bank", "echo", bankPort, fromWest), nsEndpoints("bank", "echo", "west", bankWest.endpoint(otherNetwork)),
		nsService("shop", "cart", cartPort, fromEast), nsEndpoints("shop", "cart", "east", shopEast.endpoint(sameZone)),
		nsService("other", "echo", int32(freePort(t)), fromWest), nsEndpoints("other", "echo", "west", stranger.endpoint(otherNetwork)),
		gatewayRecord("shop", "west", "n2", gw), gatewayRecord("bank", "west", "n2", gw),
		waypointsRecord("east", "n1", e.wp.Inbound().Addr()),
	)
	tunneled := func(tab *table.Table, port int32) func() bool {
		return func() bool {
			r := tab.View().Route(port)
			return r != nil && len(r.Hosts()) == 1 && r.Via(r.Hosts()[0]) != nil
		}
	}
	e.eventually("east's shop route via the gateway", tunneled(e.wp.Table(), shopPort))
	e.eventually("east's bank route via the gateway", tunneled(bankEast.Table(), bankPort))
	e.eventually("the gateway's shop route via east's waypoint", tunneled(g.Table("shop"), cartPort))
	e.eventually("listeners", func() bool {
		return slices.Contains(e.wp.Outbound().Ports(), shopPort) && slices.Contains(bankEast.Outbound().Ports(), bankPort) &&
			slices.Contains(g.Outbound("shop").Ports(), cartPort)
	})

	for _, tc := range []struct {
		name, host string
		port       int32
		want       string
	}{
		{"east's shop waypoint to west's shop endpoint", "127.0.0.1", shopPort, "shop-west"},
		{"east's bank waypoint to west's bank endpoint", "127.0.0.2", bankPort, "bank-west"},
		{"the gateway's shop listener to east's shop endpoint", "127.0.0.62", cartPort, "shop-east"},
	} {
		if got, err := roundTripAt(tc.host, tc.port); err != nil || got != tc.want {
			t.Fatalf("%s: answered by %q, %v; want %s", tc.name, got, err, tc.want)
		}
	}
	// Both namespaces' tunnels went to the gateway's one address, expecting its identity.
	if a, b := e.wp.Outbound().tunnels.ConnCount(gw, "west", gatewayID, hbone.ProtocolH2), bankEast.Outbound().tunnels.ConnCount(gw, "west", gatewayID, hbone.ProtocolH2); a != 1 || b != 1 {
		t.Fatalf("connections to the gateway at %s: shop's waypoint %d, bank's %d; want 1 each", gw, a, b)
	}
	if n := g.Outbound("shop").tunnels.ConnCount(e.wp.Inbound().Addr(), "east", "spiffe://cluster.local/ns/shop/sa/meshfed-waypoint", hbone.ProtocolH2); n != 1 {
		t.Fatalf("the gateway holds %d connections to east's shop waypoint, want 1", n)
	}

	target := func(b *backend) netip.AddrPort {
		return netip.AddrPortFrom(netip.MustParseAddr(b.ip), uint16(b.port))
	}
	shopWaypoint := pki.waypointSource(t, "east")
	if _, err := tunnelTo(t, shopWaypoint, gw, target(stranger)); !refusedWith(err, ReasonTargetNotServed) {
		t.Errorf("tunnel to a namespace the gateway does not serve: %v, want 403 %s", err, ReasonTargetNotServed)
	}
	if _, err := tunnelTo(t, shopWaypoint, gw, target(bankWest)); !refusedWith(err, ReasonCallerNotAllowed) {
		t.Errorf("shop's waypoint tunneling to bank's endpoint: %v, want 403 %s", err, ReasonCallerNotAllowed)
	}
	if stranger.accepted.Load() != 0 || bankWest.accepted.Load() != 1 {
		t.Fatalf("refused tunnels reached backends: other %d, bank %d (want 0 and the 1 round trip)", stranger.accepted.Load(), bankWest.accepted.Load())
	}
	checkGatewayAdmin(t, g, cartPort)
}

// checkGatewayAdmin reads the running gateway's admin endpoints: ready, each namespace's table
// by its query parameter, and metrics labelled by namespace.
func checkGatewayAdmin(t *testing.T, g *Gateway, cartPort int32) {
	t.Helper()
	srv := httptest.NewServer(g.Admin())
	t.Cleanup(srv.Close)
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz = %d %s, want 200", code, body)
	}
	if code, body := get("/debug/endpoints?namespace=shop"); code != http.StatusOK || !strings.Contains(body, `"listenPort": `+itoa(cartPort)) {
		t.Errorf("/debug/endpoints?namespace=shop = %d, want shop's table with port %d:\n%s", code, cartPort, body)
	}
	if code, body := get("/debug/endpoints"); code != http.StatusBadRequest || !strings.Contains(body, "bank, shop") {
		t.Errorf("/debug/endpoints without namespace = %d %q, want 400 naming the namespaces", code, body)
	}
	if code, _ := get("/debug/endpoints?namespace=other"); code != http.StatusNotFound {
		t.Errorf("/debug/endpoints?namespace=other = %d, want 404", code)
	}
	_, metrics := get("/metrics")
	for _, want := range []string{`meshfed_waypoint_store_revision{namespace="bank"}`, `meshfed_waypoint_store_revision{namespace="shop"}`, `meshfed_waypoint_connections_total{destination_cluster="east",namespace="shop",result="connected"`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestGatewayReadinessAndDrain: the gateway is not ready before every namespace's table has
// synced and its listeners are open; when its context ends it fails /readyz at once, keeps
// its listeners open for the shutdown delay, then closes them and returns.
func TestGatewayReadinessAndDrain(t *testing.T) {
	pki := newTestPKI(t)
	e := newEnv(t, nil)
	port := int32(freePort(t))
	e.put(nsService("bank", "echo", port, model.Import{Cluster: "west", From: []string{"west"}}))
	opts := gatewayOptions(t, pki, "shop", "bank")
	opts.Drain = DrainOptions{ShutdownDelay: 300 * time.Millisecond, Timeout: 2 * time.Second}
	opts.Logger, opts.Clock, opts.AllowLoopbackEndpoints = testLogger, e.clock, true
	g, err := NewGateway(opts)
	if err != nil {
		t.Fatalf("NewGateway: %v", err)
	}
	if why := g.readiness(); why != "namespace bank: endpoint table not synced with the store yet" {
		t.Fatalf("readiness before Run: %q", why)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx, e.connector()) }()
	e.eventually("gateway ready", func() bool { return g.readiness() == "" })
	if !slices.Contains(g.Outbound("bank").Ports(), port) {
		t.Fatalf("ready without bank's listener on %d", port)
	}
	cancel()
	e.eventually("draining", g.Draining)
	if why := g.readiness(); why != "draining" {
		t.Fatalf("readiness while draining: %q", why)
	}
	// Still accepting during the shutdown delay.
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.62", itoa(port)), time.Second)
	if err != nil {
		t.Fatalf("bank's listener refused a connection during the shutdown delay: %v", err)
	}
	_ = c.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Run did not return after the drain")
	}
	if _, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.62", itoa(port)), time.Second); err == nil {
		t.Fatal("bank's listener still open after the drain")
	}
}
