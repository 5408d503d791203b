package table

import (
	"slices"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/waypoint/internal/wptest"
)

// newTestTable is the table of shop's waypoint in cluster east, without tunnels (HBONE off).
func newTestTable(t *testing.T) *Table {
	t.Helper()
	return NewTable(Options{Namespace: "shop", Cluster: "east", Locality: wptest.Self, Clock: wptest.NewManualClock(), Logger: wptest.Logger})
}

// newTunnelTable is newTestTable with tunnels to other networks (HBONE on).
// shopWaypointID is the SPIFFE ID of namespace shop's waypoints in the tests' trust domain.
const shopWaypointID = "spiffe://cluster.local/ns/shop/sa/meshfed-waypoint"

func newTunnelTable(t *testing.T) *Table {
	t.Helper()
	return NewTable(Options{
		Namespace: "shop", Cluster: "east", Locality: wptest.Self, Tunnels: true, CrossNetwork: "hbone h2 (test)", WaypointID: shopWaypointID,
		Clock: wptest.NewManualClock(), Logger: wptest.Logger,
	})
}

func TestTableAddressesOnlyWhatItImports(t *testing.T) {
	const wp = 20000
	east := wptest.Endpoints("east", wptest.Endpoint("10.0.0.1", 8080, wptest.SameZone))
	west := wptest.Endpoints("west", wptest.Endpoint("10.0.0.2", 8080, wptest.OtherZone), wptest.Endpoint("10.0.0.3", 8080, wptest.OtherNetwork))
	noPort := wptest.Endpoint("10.0.0.4", 8080, wptest.OtherZone)
	noPort.Ports[0].Name = "other"
	westNoPort := wptest.Endpoints("west", noPort)
	withImports := func(imports ...model.Import) *store.ServiceRecord {
		return wptest.Edit(wptest.Service(wp, model.ModeAny), func(s *model.PublishedService) { s.Imports = imports })
	}
	tests := []struct {
		name        string
		records     []store.Record
		wantTargets []string // nil: no route at all
		wantSkipped []string
	}{
		{
			name:        "imported from both clusters; the other network is skipped without HBONE",
			records:     []store.Record{wptest.Service(wp, model.ModeAny), east, west},
			wantTargets: []string{"10.0.0.1:8080", "10.0.0.2:8080"},
			wantSkipped: []string{SkipNoHBONE},
		},
		{
			name:        "From limits the clusters",
			records:     []store.Record{withImports(model.Import{Cluster: "east", From: []string{"east"}}), east, west},
			wantTargets: []string{"10.0.0.1:8080"},
		},
		{
			name:    "not imported by this cluster",
			records: []store.Record{withImports(model.Import{Cluster: "west", From: []string{"east", "west"}}), east, west},
		},
		{
			name:        "unsorted imports still found",
			records:     []store.Record{withImports(model.Import{Cluster: "west", From: []string{"west"}}, model.Import{Cluster: "east", From: []string{"west"}}), east, west},
			wantTargets: []string{"10.0.0.2:8080"},
			wantSkipped: []string{SkipNoHBONE},
		},
		{
			name:        "endpoint without the port's target port",
			records:     []store.Record{wptest.Service(wp, model.ModeAny), westNoPort},
			wantTargets: []string{},
			wantSkipped: []string{SkipNoTargetPort},
		},
		{
			name:    "endpoints without a service",
			records: []store.Record{east, west},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := newTestTable(t)
			tab.Apply(store.Batch{Snapshot: true, Revision: 7, Events: wptest.Put(7, tt.records...)})
			if !tab.Ready() || tab.Revision() != 7 {
				t.Fatalf("ready %v revision %d, want true 7", tab.Ready(), tab.Revision())
			}
			r := tab.View().Route(wp)
			if tt.wantTargets == nil {
				if r != nil {
					t.Fatalf("route %v, want none", r.Targets)
				}
				return
			}
			if r == nil {
				t.Fatal("no route")
			}
			if !slices.Equal(r.Targets, tt.wantTargets) && !(len(r.Targets) == 0 && len(tt.wantTargets) == 0) {
				t.Errorf("targets %v, want %v", r.Targets, tt.wantTargets)
			}
			var skipped []string
			for _, s := range r.Skipped {
				skipped = append(skipped, s.Reason)
			}
			if !slices.Equal(skipped, tt.wantSkipped) {
				t.Errorf("skipped %v, want %v", skipped, tt.wantSkipped)
			}
		})
	}
}

func TestTableEventsAndSnapshots(t *testing.T) {
	const wp = 20000
	tab := newTestTable(t)
	svc := wptest.Service(wp, model.ModeAny)
	east := wptest.Endpoints("east", wptest.Endpoint("10.0.0.1", 8080, wptest.SameZone))
	tab.Apply(store.Batch{Snapshot: true, Revision: 3, Events: wptest.Put(3, svc, east)})
	first := tab.View()

	// A value that failed to decode removes what was held for its key.
	bad := store.Event{Type: store.EventPut, Key: east.Key(), Err: &store.DecodeError{Key: east.Key().String(), Err: store.ErrUnsupportedVersion}, Revision: 4}
	tab.Apply(store.Batch{Revision: 4, Events: []store.Event{bad}})
	if r := tab.View().Route(wp); r == nil || len(r.Targets) != 0 {
		t.Fatalf("after an undecodable endpoints value: %+v, want the route with no endpoint", r)
	}
	if first.Route(wp).Targets[0] != "10.0.0.1:8080" {
		t.Fatal("an older snapshot changed after a swap")
	}
	tab.Apply(store.Batch{Revision: 5, Events: wptest.Put(5, east)})
	if r := tab.View().Route(wp); len(r.Targets) != 1 {
		t.Fatalf("after re-adding: %v", r.Targets)
	}
	// A snapshot batch replaces everything: the service is gone.
	tab.Apply(store.Batch{Snapshot: true, Revision: 9, Events: wptest.Put(9, east)})
	if r := tab.View().Route(wp); r != nil || tab.Revision() != 9 {
		t.Fatalf("after a snapshot without the service: route %v, revision %d", r, tab.Revision())
	}
	tab.Apply(store.Batch{Revision: 10, Events: []store.Event{{Type: store.EventDelete, Key: east.Key(), Revision: 10}}})
	if tab.Revision() != 10 {
		t.Fatalf("revision %d, want 10", tab.Revision())
	}
}
