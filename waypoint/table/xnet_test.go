package table

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/waypoint/internal/wptest"
)

func TestTableRoutesCrossNetworkThroughWaypoints(t *testing.T) {
	const wp = 20000
	svc := wptest.Edit(wptest.Service(wp, model.ModePreferNetwork), func(s *model.PublishedService) {
		s.Imports = []model.Import{{Cluster: "east", From: []string{"east", "north", "west"}}}
	})
	east := wptest.Endpoints("east", wptest.Endpoint("10.0.0.1", 8080, wptest.SameZone))
	west := wptest.Endpoints("west", wptest.Endpoint("10.1.0.1", 8080, wptest.OtherNetwork))
	north := wptest.Endpoints("north", wptest.Endpoint("10.2.0.1", 8080, wptest.NorthNetwork))
	westWaypoints := wptest.WaypointsRecord("west", "n2", "192.0.2.1:15008", "192.0.2.2:15008")

	tab := newTunnelTable(t)
	tab.Apply(store.Batch{Snapshot: true, Revision: 1, Events: wptest.Put(1, svc, east, west, north, westWaypoints, wptest.WaypointsRecord("north", "n2"))})
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
	if got, id := r.viaAddrs(r.hosts[1]); !slices.Equal(got, westWaypoints.Addresses) || id != shopWaypointID {
		t.Fatalf("west endpoint via %v (%s), want %v (%s)", got, id, westWaypoints.Addresses, shopWaypointID)
	}
	if via, _ := r.viaAddrs(r.hosts[0]); via != nil {
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

// TestPeersExpectTheRecordsIdentity: a cluster whose record names a shared gateway is tunneled
// through with the gateway's SPIFFE ID expected of its servers; the others with the
// namespace's waypoint ID; and the expectation follows the record.
func TestPeersExpectTheRecordsIdentity(t *testing.T) {
	const wp = 20000
	const gatewayID = "spiffe://cluster.local/ns/meshfed-system/sa/meshfed-gateway"
	svc := wptest.Edit(wptest.Service(wp, model.ModeAny), func(s *model.PublishedService) {
		s.Imports = []model.Import{{Cluster: "east", From: []string{"north", "west"}}}
	})
	west := wptest.Endpoints("west", wptest.Endpoint("10.1.0.1", 8080, wptest.OtherNetwork))
	north := wptest.Endpoints("north", wptest.Endpoint("10.2.0.1", 8080, wptest.NorthNetwork))
	gateway := wptest.WaypointsRecord("west", "n2", "192.0.2.1:15008")
	gateway.Gateway, gateway.Identity = "meshfed-system", gatewayID
	tab := newTunnelTable(t)
	tab.Apply(store.Batch{Snapshot: true, Revision: 1, Events: wptest.Put(1, svc, west, north, gateway, wptest.WaypointsRecord("north", "n2", "192.0.2.2:15008"))})
	ids := func() map[string]string {
		out := make(map[string]string)
		for _, ep := range tab.Debug().Routes[0].Endpoints {
			out[ep.Cluster] = ep.ViaIdentity
		}
		return out
	}
	if got := ids(); got["west"] != gatewayID || got["north"] != shopWaypointID || len(got) != 2 {
		t.Fatalf("peer identities %v, want west's gateway and north's shop waypoint", got)
	}
	// West's namespace gets its own waypoint: its record drops the gateway.
	tab.Apply(store.Batch{Revision: 2, Events: wptest.Put(2, wptest.WaypointsRecord("west", "n2", "192.0.2.3:15008"))})
	if got := ids(); got["west"] != shopWaypointID {
		t.Fatalf("after the gateway left west's record: peer identities %v, want shop's waypoint ID", got)
	}
}

// TestViewPublishesAndHolds: a view knows the gateway identity each cluster's record names, and
// which targets are the namespace's endpoints in this cluster.
func TestViewPublishesAndHolds(t *testing.T) {
	const gatewayID = "spiffe://cluster.local/ns/meshfed-system/sa/meshfed-gateway"
	svc := wptest.Edit(wptest.Service(20000, model.ModeAny), func(s *model.PublishedService) {
		s.Imports = []model.Import{{Cluster: "west", From: []string{"east"}}}
	})
	unready := wptest.Endpoint("10.0.0.2", 8080, wptest.SameZone)
	unready.Ready = false
	gw := wptest.WaypointsRecord("west", "n2", "192.0.2.1:15008")
	gw.Gateway, gw.Identity = "meshfed-system", gatewayID
	tab := newTunnelTable(t)
	tab.Apply(store.Batch{Snapshot: true, Revision: 1, Events: wptest.Put(1, svc, gw, wptest.WaypointsRecord("north", "n2", "192.0.2.2:15008"),
		wptest.Endpoints("east", wptest.Endpoint("10.0.0.1", 8080, wptest.SameZone), unready),
		wptest.Endpoints("west", wptest.Endpoint("10.1.0.1", 8080, wptest.OtherNetwork)))})
	v := tab.View()
	for _, tc := range []struct {
		cluster, id string
		want        bool
	}{
		{"west", gatewayID, true},
		{"north", gatewayID, false}, // north's record names no gateway
		{"east", gatewayID, false},  // no record at all
		{"west", shopWaypointID, false},
		{"", gatewayID, false},
		{"north", "", false},
	} {
		if got := v.Publishes(tc.cluster, tc.id); got != tc.want {
			t.Errorf("Publishes(%q, %q) = %v, want %v", tc.cluster, tc.id, got, tc.want)
		}
	}
	for target, want := range map[string]bool{"10.0.0.1:8080": true, "10.0.0.2:8080": true, "10.1.0.1:8080": false, "10.0.0.1:9090": false} {
		if got := v.Holds(netip.MustParseAddrPort(target)); got != want {
			t.Errorf("Holds(%s) = %v, want %v (east's endpoints, ready or not)", target, got, want)
		}
	}
}

func TestIndexLocalTargets(t *testing.T) {
	svc := wptest.Edit(wptest.Service(20000, model.ModeAny), func(s *model.PublishedService) {
		s.Ports, s.WaypointPorts = append(s.Ports, model.Port{Name: "admin", Port: 9090, Protocol: "TCP"}), append(s.WaypointPorts, 0)
		s.Imports = []model.Import{{Cluster: "east", From: []string{"west"}}, {Cluster: "north", From: []string{"east"}}, {Cluster: "west", From: []string{"west"}}}
	})
	ready := wptest.Endpoint("10.1.0.1", 8080, wptest.OtherNetwork)
	ready.Ports = append(ready.Ports, model.EndpointPort{Name: "admin", Port: 9091}, model.EndpointPort{Name: "debug", Port: 6060})
	unready := wptest.Endpoint("10.1.0.2", 8080, wptest.OtherNetwork)
	unready.Ready = false
	tab := NewTable(Options{Namespace: "shop", Cluster: "west", Locality: wptest.OtherNetwork, Clock: wptest.NewManualClock(), Logger: wptest.Logger})
	tab.Apply(store.Batch{Snapshot: true, Revision: 1, Events: wptest.Put(1, svc, wptest.Endpoints("west", ready, unready), wptest.Endpoints("east", wptest.Endpoint("10.0.0.1", 8080, wptest.SameZone)))})

	got, granted := tab.View().local, tab.View().granted
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
