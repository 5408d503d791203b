package waypoint

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/hbone/identity"
)

// newHBONETable is newTestTable with HBONE credentials of the shop waypoint.
func newHBONETable(t *testing.T) *Table {
	t.Helper()
	return newHBONETableFrom(t, newTestPKI(t).waypointSource(t, "east"))
}

// newHBONETableFrom is newTestTable with HBONE credentials from src.
func newHBONETableFrom(t *testing.T, src identity.Source) *Table {
	t.Helper()
	opts := Options{Namespace: "shop", Cluster: "east", Locality: self, Clock: newManualClock(), Logger: testLogger}
	opts.HBONE.Identity = src
	if err := opts.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	return NewTable(opts)
}

func TestTableRoutesCrossNetworkThroughWaypoints(t *testing.T) {
	const wp = 20000
	svc := edit(service(wp, model.ModePreferNetwork), func(s *model.PublishedService) {
		s.Imports = []model.Import{{Cluster: "east", From: []string{"east", "north", "west"}}}
	})
	east := endpoints("east", endpoint("10.0.0.1", 8080, sameZone))
	west := endpoints("west", endpoint("10.1.0.1", 8080, otherNetwork))
	north := endpoints("north", endpoint("10.2.0.1", 8080, northNetwork))
	westWaypoints := waypointsRecord("west", "n2", "192.0.2.1:15008", "192.0.2.2:15008")

	tab := newHBONETable(t)
	tab.Apply(store.Batch{Snapshot: true, Revision: 1, Events: put(1, svc, east, west, north, westWaypoints, waypointsRecord("north", "n2"))})
	r := tab.View().Route(wp)
	if r == nil {
		t.Fatal("no route")
	}
	if want := []string{"10.0.0.1:8080", "10.1.0.1:8080"}; !slices.Equal(r.Targets, want) {
		t.Fatalf("targets %v, want %v", r.Targets, want)
	}
	if len(r.Skipped) != 1 || r.Skipped[0] != (Skipped{Cluster: "north", Address: "10.2.0.1", Reason: SkipNoWaypoint}) {
		t.Fatalf("skipped %+v, want north's endpoint (its record has no address)", r.Skipped)
	}
	if got := r.viaAddrs(r.hosts[1]); !slices.Equal(got, westWaypoints.Addresses) {
		t.Fatalf("west endpoint via %v, want %v", got, westWaypoints.Addresses)
	}
	if r.viaAddrs(r.hosts[0]) != nil {
		t.Fatal("same-network endpoint routed through a tunnel")
	}
	if !slices.Equal(r.Tiers.Of, []int{0, 1}) || !slices.Equal(r.Plan.Load.Percent, []uint32{100, 0}) {
		t.Fatalf("tiers %v load %v, want the other network one tier below", r.Tiers.Of, r.Plan.Load.Percent)
	}
	d := tab.Debug()
	if d.CrossNetwork == "" || !slices.Equal(d.Routes[0].Endpoints[1].Via, westWaypoints.Addresses) {
		t.Fatalf("debug table: crossNetwork %q, endpoints %+v", d.CrossNetwork, d.Routes[0].Endpoints)
	}

	// Withdrawing west's waypoints skips its endpoint again.
	tab.Apply(store.Batch{Revision: 2, Events: []store.Event{{Type: store.EventDelete, Key: westWaypoints.Key(), Revision: 2}}})
	r = tab.View().Route(wp)
	if !slices.Equal(r.Targets, []string{"10.0.0.1:8080"}) || len(r.Skipped) != 2 {
		t.Fatalf("after the waypoint record was deleted: targets %v skipped %+v", r.Targets, r.Skipped)
	}
}

func TestTableWithoutHBONESaysSo(t *testing.T) {
	tab := newTestTable(t)
	tab.Apply(store.Batch{Snapshot: true, Revision: 1, Events: put(1,
		service(20000, model.ModeAny), endpoints("west", endpoint("10.1.0.1", 8080, otherNetwork)), waypointsRecord("west", "n2", "192.0.2.1:15008"),
	)})
	d := tab.Debug()
	if d.CrossNetwork != crossNetworkMode(&HBONEOptions{}) || len(d.Routes[0].Skipped) != 1 || d.Routes[0].Skipped[0].Reason != SkipNoHBONE {
		t.Fatalf("debug table without HBONE: %+v", d)
	}
}

func TestIndexLocalTargets(t *testing.T) {
	st := newState()
	svc := edit(service(20000, model.ModeAny), func(s *model.PublishedService) {
		s.Ports, s.WaypointPorts = append(s.Ports, model.Port{Name: "admin", Port: 9090, Protocol: "TCP"}), append(s.WaypointPorts, 0)
		s.Imports = []model.Import{{Cluster: "east", From: []string{"west"}}, {Cluster: "north", From: []string{"east"}}, {Cluster: "west", From: []string{"west"}}}
	})
	ready := endpoint("10.1.0.1", 8080, otherNetwork)
	ready.Ports = append(ready.Ports, model.EndpointPort{Name: "admin", Port: 9091}, model.EndpointPort{Name: "debug", Port: 6060})
	unready := endpoint("10.1.0.2", 8080, otherNetwork)
	unready.Ready = false
	st.apply(store.Batch{Snapshot: true, Events: put(1, svc, endpoints("west", ready, unready), endpoints("east", endpoint("10.0.0.1", 8080, sameZone)))}, testLogger)

	got, granted := indexTargets(&st, "west")
	want := localTargets{
		netip.MustParseAddrPort("10.1.0.1:8080"): {"east", "west"},
		netip.MustParseAddrPort("10.1.0.1:9091"): {"east", "west"},
	}
	if len(got) != len(want) {
		t.Fatalf("index %v, want %v", got, want)
	}
	for ap, clusters := range want {
		if !slices.Equal(got[ap], clusters) {
			t.Errorf("%s: %v, want %v", ap, got[ap], clusters)
		}
	}
	if got.allows(netip.MustParseAddrPort("10.1.0.1:8080"), "north") {
		t.Error("north imports only from east, yet may reach west's endpoint")
	}
	if !granted.allows(netip.MustParseAddrPort("10.1.0.2:8080"), "east") || !granted.allows(netip.MustParseAddrPort("10.1.0.1:9091"), "east") ||
		granted.allows(netip.MustParseAddrPort("10.1.0.2:8080"), "north") || len(granted) != 3 {
		t.Errorf("granted targets %v: want west's ready and unready endpoints, for east and west only", granted)
	}
}

// TestInboundAuthorizes checks the handler's decisions; nothing is dialed for a denied tunnel
// because every denied target here is a port nothing listens on or a live backend whose
// accept count is checked.
func TestInboundAuthorizes(t *testing.T) {
	pki := newTestPKI(t)
	b := startBackend(t, "b", "127.0.0.71")
	unready := endpoint("127.0.0.72", 8080, westWaypoint)
	unready.Ready = false
	opts := Options{
		Namespace: "shop", Cluster: "west", Locality: westWaypoint, Logger: testLogger,
		HBONE:                  HBONEOptions{Identity: pki.waypointSource(t, "west"), ListenAddress: "127.0.0.1:0"},
		AllowLoopbackEndpoints: true,
	}
	tab := NewTable(opts)
	in, err := NewInbound(tab, opts)
	if err != nil {
		t.Fatalf("NewInbound: %v", err)
	}
	backend := netip.AddrPortFrom(netip.MustParseAddr(b.ip), uint16(b.port))
	// req is a request of caller whose certificate names cluster and whose Baggage claims
	// cluster too, or claims when set.
	req := func(caller string, cluster string, target netip.AddrPort, claims ...string) *hbone.Request {
		id, err := identity.ParseID(caller)
		if err != nil {
			t.Fatalf("ParseID: %v", err)
		}
		claimed := cluster
		if len(claims) > 0 {
			claimed = claims[0]
		}
		h := http.Header{}
		if claimed != "" {
			h.Set("Baggage", hbone.FormatBaggage(hbone.Locality{Cluster: claimed, Namespace: "shop"}))
		}
		return &hbone.Request{Caller: id, CallerCluster: cluster, Target: target, Header: h}
	}
	const waypointEast = "spiffe://cluster.local/ns/shop/sa/meshfed-waypoint"
	if _, err := in.Connect(t.Context(), req(waypointEast, "east", backend)); refusal(err) != http.StatusServiceUnavailable {
		t.Fatalf("before the table is synced: %v, want 503", err)
	}
	tab.Apply(store.Batch{Snapshot: true, Revision: 1, Events: put(1,
		service(20000, model.ModeAny), endpoints("west", b.endpoint(westWaypoint), unready),
	)})
	tests := []struct {
		name    string
		req     *hbone.Request
		allow   []string
		wantErr int // 0: allowed
	}{
		{"waypoint of the namespace, importing cluster, ready endpoint", req(waypointEast, "east", backend), nil, 0},
		{"waypoint of another namespace", req("spiffe://cluster.local/ns/other/sa/meshfed-waypoint", "east", backend), nil, http.StatusForbidden},
		{"other service account of the namespace", req("spiffe://cluster.local/ns/shop/sa/web", "east", backend), nil, http.StatusForbidden},
		{"other trust domain", req("spiffe://example.org/ns/shop/sa/meshfed-waypoint", "east", backend), nil, http.StatusForbidden},
		{"no caller cluster", req(waypointEast, "", backend), nil, http.StatusForbidden},
		{"no cluster in the certificate, east claimed", req(waypointEast, "", backend, "east"), nil, http.StatusForbidden},
		{"caller cluster does not import the service", req(waypointEast, "north", backend), nil, http.StatusForbidden},
		{"north claiming east", req(waypointEast, "north", backend, "east"), nil, http.StatusForbidden},
		{"east claiming north", req(waypointEast, "east", backend, "north"), nil, 0},
		{"unready endpoint", req(waypointEast, "east", netip.MustParseAddrPort("127.0.0.72:8080")), nil, http.StatusForbidden},
		{"port the endpoint does not serve", req(waypointEast, "east", netip.AddrPortFrom(backend.Addr(), backend.Port()+1)), nil, http.StatusForbidden},
		{"address of no endpoint", req(waypointEast, "east", netip.MustParseAddrPort("127.0.0.73:8080")), nil, http.StatusForbidden},
		{"allow-listed identity", req("spiffe://cluster.local/ns/gateway/sa/edge", "east", backend), []string{"spiffe://cluster.local/ns/gateway/sa/edge"}, 0},
		{"waypoint not in the allow list", req(waypointEast, "east", backend), []string{"spiffe://cluster.local/ns/gateway/sa/edge"}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handler := in
			if tt.allow != nil {
				o := opts
				for _, s := range tt.allow {
					id, _ := identity.ParseID(s)
					o.HBONE.AllowCallers = append(o.HBONE.AllowCallers, id)
				}
				if handler, err = NewInbound(tab, o); err != nil {
					t.Fatalf("NewInbound: %v", err)
				}
			}
			before := b.accepted.Load()
			c, err := handler.Connect(t.Context(), tt.req)
			if tt.wantErr == 0 {
				if err != nil {
					t.Fatalf("Connect: %v", err)
				}
				_ = c.Close()
				waitAccepted(t, b, before+1)
				return
			}
			if got := refusal(err); got != tt.wantErr {
				t.Fatalf("Connect: %v, want a refusal with status %d", err, tt.wantErr)
			}
			if b.accepted.Load() != before {
				t.Fatal("a denied tunnel reached the backend")
			}
		})
	}
}

// refusal is the status of an hbone.Refusal error, or 0.
func refusal(err error) int {
	if r, ok := errors.AsType[*hbone.Refusal](err); ok {
		return r.Status
	}
	return 0
}

func waitAccepted(t *testing.T, b *backend, n int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	for b.accepted.Load() < n {
		if ctx.Err() != nil {
			t.Fatalf("backend accepted %d connections, want %d", b.accepted.Load(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestValidateCertificateCluster: a waypoint whose certificate names no cluster, or another
// than its own, could neither be authorized by its peers nor pass their check of its server,
// so it does not start.
func TestValidateCertificateCluster(t *testing.T) {
	pki := newTestPKI(t)
	for _, tt := range []struct {
		cluster string
		ok      bool
	}{{"east", true}, {"west", false}, {"", false}} {
		opts := Options{Namespace: "shop", Cluster: "east", HBONE: HBONEOptions{Identity: pki.waypointSource(t, tt.cluster)}}
		if err := opts.Validate(); (err == nil) != tt.ok {
			t.Errorf("certificate naming cluster %q: Validate = %v, want ok=%v", tt.cluster, err, tt.ok)
		}
	}
}
