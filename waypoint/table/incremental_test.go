package table

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/waypoint/internal/wptest"
)

// FuzzIncrementalBuild applies arbitrary sequences of store changes (services put with any
// mode, aggregation and imports, or deleted; endpoints records put or deleted; waypoints
// records put or deleted) in batches to one table, which makes again only the routes of the
// services a batch touched and keeps an aggregated service's remote records compacted, and
// checks after every batch (and the read again that Table.Run makes when the table asks) that
// its view is the view a new table builds from the same records in one snapshot: routes,
// tiers, plans, skipped endpoints and the local services tunnels may name.
func FuzzIncrementalBuild(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add([]byte{0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87, 0x98, 0xa9, 0xba, 0xcb, 0xdc, 0xed, 0xfe})
	f.Add([]byte{5, 0x45, 0x85, 0xc5, 2, 0x42, 0x82, 1, 0x41, 0x81, 3, 0x43, 0x83})
	// Batches that touch one service at a time, none a waypoints record: the incremental path.
	// A waypoints record added, then removed, under routes built before.
	f.Add([]byte{0x80, 0x82, 7, 0x86, 7, 0x8f, 7})
	f.Add([]byte{6, 0x46, 0x86, 0, 0x10, 2, 0x42, 0x12, 7, 3, 0x43, 7, 9, 7, 0x52, 7, 4, 7, 0x11, 7, 5, 7, 0x84, 7})
	clusters := []string{"east", "west", "north"}
	networks := map[string]string{"east": "n1", "west": "n2", "north": "n2"}
	modes := []model.Mode{model.ModeAny, model.ModePreferNetwork, model.ModePreferClose}
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 120 {
			return
		}
		tab := newTunnelTable(t)
		held := map[string]store.Record{}
		var batch []store.Event
		rev := int64(1)
		flush := func() {
			tab.Apply(store.Batch{Revision: rev, Events: batch})
			batch = nil
			snapshot := store.Batch{Snapshot: true, Revision: rev, Events: wptest.Put(rev, slices.Collect(maps.Values(held))...)}
			if tab.takeReread() { // as Table.Run does
				tab.Apply(snapshot)
			}
			fresh := newTunnelTable(t)
			fresh.Apply(snapshot)
			if got, want := debugJSON(t, tab), debugJSON(t, fresh); got != want {
				t.Fatalf("after revision %d the table built incrementally differs from a fresh one:\n got %s\nwant %s", rev, got, want)
			}
			rev++
		}
		put := func(r store.Record) {
			held[r.Key().String()] = r
			batch = append(batch, wptest.Put(rev, r)...)
		}
		del := func(k store.Key) {
			delete(held, k.String())
			batch = append(batch, store.Event{Type: store.EventDelete, Key: k, Revision: rev})
		}
		for i, op := range ops {
			name := fmt.Sprintf("svc%d", op>>4&3)
			cluster := clusters[int(op>>6)%len(clusters)]
			switch op & 7 {
			case 0, 1: // a service, its imports and policy from the bits
				svc := &model.PublishedService{
					GlobalService: model.GlobalService{
						Namespace: "shop", Name: name, Domain: wellknown.DefaultSegmentDomain, Hostname: name + ".shop." + wellknown.DefaultSegmentDomain,
						Scope: model.ScopeGlobal, Type: model.ServiceTypeClusterSetIP, Ports: []model.Port{{Name: "tcp", Port: 80, Protocol: "TCP"}},
						Distribution: model.Distribution{Mode: modes[int(op>>3&1)+int(op&1)]},
						Imports: []model.Import{
							{Cluster: "east", From: clusters[:1+int(op>>6)%len(clusters)]},
							{Cluster: "west", From: clusters},
						},
					},
					WaypointPorts: []int32{20000 + int32(op>>4&3)},
				}
				if op&8 != 0 {
					svc.Load = &model.LoadPolicy{RemoteEndpoints: model.RemoteEndpointsAggregated}
				}
				put(store.NewServiceRecord(svc))
			case 2, 3: // a cluster's endpoints: one to three, readiness from the bits
				var eps []model.Endpoint
				for e := range 1 + int(op>>3&1) + int(op&1) {
					loc := model.Locality{Network: networks[cluster], Region: "r1", Zone: fmt.Sprintf("z%d", e), Cluster: cluster}
					ep := wptest.Endpoint(fmt.Sprintf("10.%d.%d.%d", slices.Index(clusters, cluster), op>>4&3, e), 8080, loc)
					ep.Ready = (i+e)%3 != 0
					eps = append(eps, ep)
				}
				put(store.NewEndpointsRecord(&model.PublishedEndpoints{
					Namespace: "shop", Domain: wellknown.DefaultSegmentDomain, Name: name, Cluster: cluster, Scope: model.ScopeGlobal, Endpoints: eps,
				}))
			case 4:
				del(store.EndpointsKey("shop", wellknown.DefaultSegmentDomain, name, cluster))
			case 5:
				del(store.ServiceKey("shop", wellknown.DefaultSegmentDomain, name))
			case 6:
				put(wptest.WaypointsRecord(cluster, networks[cluster], fmt.Sprintf("192.0.2.%d:15008", 1+slices.Index(clusters, cluster))))
			case 7:
				if op&8 != 0 {
					del(store.WaypointsKey("shop", cluster))
				} else {
					flush()
				}
			}
		}
		flush()
	})
}

// debugJSON is the table's debug document, its revision cleared.
func debugJSON(t *testing.T, tab *Table) string {
	t.Helper()
	d := tab.Debug()
	d.Revision = 0
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRefreshRouteRebuildsOneService: an ejection in one service's pool rebuilds that
// service's routes only, and so does the end of the ejection; the other service's route is the
// very one of the view before.
func TestRefreshRouteRebuildsOneService(t *testing.T) {
	clock := wptest.NewManualClock()
	tab := NewTable(Options{Namespace: "shop", Cluster: "east", Locality: wptest.Self, Clock: clock, Logger: wptest.Logger})
	other := wptest.Edit(wptest.Service(20001, model.ModeAny), func(s *model.PublishedService) { s.Name = "other" })
	otherEndpoints := store.NewEndpointsRecord(&model.PublishedEndpoints{
		Namespace: "shop", Domain: wellknown.DefaultSegmentDomain, Name: "other", Cluster: "east", Scope: model.ScopeGlobal,
		Endpoints: []model.Endpoint{wptest.Endpoint("10.0.1.1", 8080, wptest.SameZone)},
	})
	tab.Apply(store.Batch{Snapshot: true, Revision: 1, Events: wptest.Put(1, wptest.Service(20000, model.ModeAny), other, otherEndpoints,
		wptest.Endpoints("east", wptest.Endpoint("10.0.0.1", 8080, wptest.SameZone), wptest.Endpoint("10.0.0.2", 8080, wptest.SameZone)))})
	before := tab.View()
	r, kept := before.Route(20000), before.Route(20001)
	for !r.Pool().Failure(r.Host(0), clock.Now()) {
	}
	tab.RefreshRoute(r)
	after := tab.View()
	if !after.Route(20000).Ejected(0) || after.Route(20000).Ejected(1) {
		t.Fatal("the ejected endpoint is not ejected in the rebuilt route")
	}
	if after.Route(20001) != kept {
		t.Fatal("the other service's route was rebuilt")
	}
	clock.Advance(time.Hour)
	ended := tab.View()
	if ended == after || ended.Route(20000).Ejected(0) {
		t.Fatal("the end of the ejection did not rebuild the route")
	}
	if ended.Route(20001) != kept {
		t.Fatal("the end of the ejection rebuilt the other service's route")
	}
}
