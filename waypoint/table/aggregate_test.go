package table

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/waypoint/internal/wptest"
)

// aggregatedService is shop/echo on waypoint port wp with its remote endpoints aggregated,
// imported by east from every cluster and by west and north from east, west and north.
func aggregatedService(wp int32, mode model.Mode) *store.ServiceRecord {
	return wptest.Edit(wptest.Service(wp, mode), func(s *model.PublishedService) {
		s.Load = &model.LoadPolicy{RemoteEndpoints: model.RemoteEndpointsAggregated}
		s.Imports = []model.Import{
			{Cluster: "east", From: []string{"east", "north", "south", "west"}},
			{Cluster: "north", From: []string{"east", "north", "west"}},
			{Cluster: "west", From: []string{"east", "north", "west"}},
		}
	})
}

// TestAggregatedRemoteEndpoints: with the service's remote endpoints aggregated, a waypoint
// routes each cluster on another network as one endpoint tunnelled to the service by name,
// weighted by that cluster's healthy endpoints, at the locality they share; same-network
// endpoints stay one by one; and turning the policy off routes every endpoint again.
func TestAggregatedRemoteEndpoints(t *testing.T) {
	const wp = 20000
	east := wptest.Endpoints("east", wptest.Endpoint("10.0.0.1", 8080, wptest.SameZone))
	notReady := wptest.Endpoint("10.1.0.3", 8080, wptest.OtherNetwork)
	notReady.Ready = false
	otherZone := wptest.Endpoint("10.1.0.2", 8080, wptest.OtherNetwork)
	otherZone.Locality.Zone, otherZone.Weight = "z9", 3
	west := wptest.Endpoints("west", wptest.Endpoint("10.1.0.1", 8080, wptest.OtherNetwork), otherZone, notReady)
	terminating := wptest.Endpoint("10.2.0.1", 8080, wptest.NorthNetwork)
	terminating.Ready, terminating.Terminating = false, true
	north := wptest.Endpoints("north", terminating)
	south := wptest.Endpoints("south", wptest.Endpoint("10.3.0.1", 8080, wptest.SouthNetwork)) // no waypoint
	records := []store.Record{aggregatedService(wp, model.ModePreferClose), east, west, north, south,
		wptest.WaypointsRecord("west", "n2", "192.0.2.1:15008"), wptest.WaypointsRecord("north", "n2", "192.0.2.2:15008")}

	tab := newTunnelTable(t)
	tab.Apply(store.Batch{Snapshot: true, Revision: 1, Events: wptest.Put(1, records...)})
	r := tab.View().Route(wp)
	if r == nil || !r.Aggregated {
		t.Fatalf("route %+v, want an aggregated one", r)
	}
	target := ServiceTarget(records[0].(*store.ServiceRecord).Hostname, 80)
	if want := []string{"10.0.0.1:8080", target, target}; !slices.Equal(r.Targets, want) {
		t.Fatalf("targets %v, want %v", r.Targets, want)
	}
	northAgg, westAgg := r.Endpoints[1], r.Endpoints[2] // clusters in name order
	if !westAgg.Healthy() || westAgg.Weight != 4 || westAgg.Address != "" ||
		westAgg.Locality != (model.Locality{Network: "n2", Region: "r1", Cluster: "west"}) {
		t.Fatalf("west's endpoint %+v, want healthy, weight 1+3, locality n2/r1 (zones differ)", westAgg)
	}
	if p, ok := westAgg.TargetPort("tcp"); !ok || p != 80 {
		t.Fatalf("west's endpoint serves port %d, %v; want the service port 80", p, ok)
	}
	if !northAgg.Degraded() || northAgg.Weight != 1 || northAgg.Locality.Zone != "z1" {
		t.Fatalf("north's endpoint %+v, want degraded (only a terminating one serves)", northAgg)
	}
	if via := r.Via(r.hosts[2]); via == nil || via.Cluster() != "west" || r.Via(r.hosts[0]) != nil {
		t.Fatal("west's endpoint is not tunnelled through west's waypoints, or east's is")
	}
	if r.hosts[1] == r.hosts[2] || r.hosts[1].Cluster() != "north" || r.hosts[2].Cluster() != "west" {
		t.Fatal("the two clusters' endpoints share a host")
	}
	if len(r.Skipped) != 1 || r.Skipped[0] != (Skipped{Cluster: "south", Reason: SkipNoWaypoint}) {
		t.Fatalf("skipped %+v, want south's endpoint (no waypoint)", r.Skipped)
	}
	if d := tab.Debug().Routes[0]; !d.Aggregated || d.Endpoints[2].Target != target || d.Endpoints[2].Weight != 4 {
		t.Fatalf("debug route %+v", d)
	}

	// West's and north's records are kept compacted: one stand-in each here.
	for _, c := range []string{"west", "north"} {
		if rec := tab.st.endpoints[records[0].Key().String()][c]; !compacted(rec) || len(rec.Endpoints) > 3 {
			t.Fatalf("%s's record is not compacted: %+v", c, rec.Endpoints)
		}
	}

	// The policy off: the compacted records are routed aggregated until the table has read
	// them again (Table.Run does, on takeReread), then every remote endpoint again, ip:port.
	off := wptest.Edit(aggregatedService(wp, model.ModePreferClose), func(s *model.PublishedService) { s.Load = nil })
	tab.Apply(store.Batch{Revision: 2, Events: wptest.Put(2, off)})
	if r = tab.View().Route(wp); !r.Aggregated || !tab.takeReread() || tab.takeReread() {
		t.Fatal("a compacted service turned off is not kept aggregated until its records are read again once")
	}
	records[0] = off
	tab.Apply(store.Batch{Snapshot: true, Revision: 3, Events: wptest.Put(3, records...)})
	r = tab.View().Route(wp)
	if want := []string{"10.0.0.1:8080", "10.2.0.1:8080", "10.1.0.1:8080", "10.1.0.2:8080", "10.1.0.3:8080"}; r.Aggregated || !slices.Equal(r.Targets, want) {
		t.Fatalf("targets %v, want %v", r.Targets, want)
	}
}

// TestLocalServiceServesAggregatedTunnels: the waypoint of a cluster with endpoints of an
// aggregated service serves tunnels naming it, from the clusters that import it from there,
// over its own cluster's ready or degraded endpoints only.
func TestLocalServiceServesAggregatedTunnels(t *testing.T) {
	const wp = 20000
	notReady := wptest.Endpoint("10.1.0.3", 8080, wptest.OtherNetwork)
	notReady.Ready = false
	west := wptest.Endpoints("west", wptest.Endpoint("10.1.0.1", 8080, wptest.OtherNetwork), wptest.Endpoint("10.1.0.2", 8080, wptest.OtherNetwork), notReady)
	east := wptest.Endpoints("east", wptest.Endpoint("10.0.0.1", 8080, wptest.SameZone))
	tab := NewTable(Options{Namespace: "shop", Cluster: "west", Locality: wptest.OtherNetwork, Tunnels: true, WaypointID: shopWaypointID, Clock: wptest.NewManualClock(), Logger: wptest.Logger})
	tab.Apply(store.Batch{Snapshot: true, Revision: 1, Events: wptest.Put(1, aggregatedService(wp, model.ModeAny), west, east)})
	v := tab.View()
	host := aggregatedService(wp, model.ModeAny).Hostname
	r, ok := v.LocalService(host, 80, "east")
	if !ok || !slices.Equal(r.Targets, []string{"10.1.0.1:8080", "10.1.0.2:8080"}) || r.Aggregated {
		t.Fatalf("local service for east: %v %+v, want west's two ready endpoints", ok, r)
	}
	if !v.HoldsService(host, 80) || v.HoldsService(host, 81) || v.HoldsService("other."+host, 80) {
		t.Fatal("HoldsService answers for another port or service")
	}
	if _, ok := v.LocalService(host, 80, "south"); ok {
		t.Fatal("south, which does not import echo from west, may name it")
	}
	if d := tab.Debug().Inbound; len(d) != 1 || d[0].Hostname != host || d[0].Port != 80 || len(d[0].Endpoints) != 2 {
		t.Fatalf("debug table's inbound services %+v, want echo's port 80 over west's two ready endpoints", d)
	}
	if !v.Grants(netip.MustParseAddrPort("10.1.0.1:8080"), "east") {
		t.Fatal("a tunnel to a picked endpoint is not granted to its caller")
	}
	// Not aggregated: no tunnel may name the service.
	tab.Apply(store.Batch{Revision: 2, Events: wptest.Put(2, wptest.Edit(aggregatedService(wp, model.ModeAny), func(s *model.PublishedService) { s.Load = nil }))})
	if _, ok := tab.View().LocalService(host, 80, "east"); ok || tab.View().HoldsService(host, 80) {
		t.Fatal("a service whose endpoints are not aggregated may be named")
	}
}

// TestAggregateLocality: the locality an aggregate keeps is what its endpoints share, from the
// network down.
func TestAggregateLocality(t *testing.T) {
	a := model.Locality{Network: "n", Region: "r", Zone: "z", Subzone: "s", Cluster: "c"}
	tests := []struct {
		b, want model.Locality
	}{
		{a, a},
		{model.Locality{Network: "n", Region: "r", Zone: "z", Subzone: "t"}, model.Locality{Network: "n", Region: "r", Zone: "z", Cluster: "c"}},
		{model.Locality{Network: "n", Region: "r", Zone: "y", Subzone: "s"}, model.Locality{Network: "n", Region: "r", Cluster: "c"}},
		{model.Locality{Network: "n", Region: "q", Zone: "z", Subzone: "s"}, model.Locality{Network: "n", Cluster: "c"}},
		{model.Locality{Network: "m", Region: "r", Zone: "z", Subzone: "s"}, model.Locality{Cluster: "c"}},
	}
	for _, tt := range tests {
		if got := sharedLocality(a, tt.b); got != tt.want {
			t.Errorf("sharedLocality(%+v, %+v) = %+v, want %+v", a, tt.b, got, tt.want)
		}
	}
}
