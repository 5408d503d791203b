package controller

import (
	"testing"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
)

// TestPassRepairsOthersWrites: a pass syncs only the clusters whose endpoints records changed,
// but an endpoints key that another writer changed (a record overwritten, one of a cluster the
// hub does not know) is put right by the next pass even though the hub's own records did not
// change; and the store then holds exactly what a pass syncing every key wants.
func TestPassRepairsOthersWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 3,000 endpoints records to an embedded etcd")
	}
	ctx := t.Context()
	h := newScaleHub(t, 3)
	exports := scaleExports(h.clusters)
	pass := func(name string) scalePass { return h.pass(t, name, exports, nil) }
	pass("initial sync")
	if p := pass("unchanged"); p.keys != 0 {
		t.Fatalf("a pass without change wrote %d keys", p.keys)
	}

	// Another writer overwrites one of cluster-01's records and adds one for a cluster the hub
	// does not know.
	overwritten := store.NewEndpointsRecord(&model.PublishedEndpoints{
		Namespace: scaleNamespace(5), Domain: wellknown.DefaultSegmentDomain, Name: scaleServiceName(5),
		Cluster: scaleClusterName(1), Scope: model.ScopeGlobal, Endpoints: exports[scaleExportIndex(1, 5)].Endpoints[:1],
	})
	ghost := store.NewEndpointsRecord(&model.PublishedEndpoints{
		Namespace: scaleNamespace(5), Domain: wellknown.DefaultSegmentDomain, Name: scaleServiceName(5),
		Cluster: "ghost", Scope: model.ScopeGlobal,
	})
	for _, r := range []store.Record{overwritten, ghost} {
		if _, err := h.w.Put(ctx, r); err != nil {
			t.Fatalf("Put %s: %v", r.Key(), err)
		}
	}
	if p := pass("after others' writes"); p.keys != 2 {
		t.Errorf("the pass after two keys were changed by others wrote %d keys, want 2 (one put, one delete)", p.keys)
	}
	l, err := h.cli.List(ctx, store.NamespacesPrefix)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range l.Entries {
		if e.Key.Cluster == "ghost" {
			t.Errorf("%s is still stored", e.Key)
		}
		if e.Key == overwritten.Key() && len(e.Record.(*store.EndpointsRecord).Endpoints) != len(exports[scaleExportIndex(1, 5)].Endpoints) {
			t.Errorf("%s still holds the other writer's record", e.Key)
		}
	}

	// A pass that syncs every key (as after a new view) finds nothing left to write.
	h.f.endpoints = nil
	if p := pass("every key synced"); p.keys != 0 {
		t.Errorf("syncing every key wrote %d keys after the repair, want none", p.keys)
	}
	if len(h.f.endpoints) != 3 {
		t.Errorf("the pass keeps what it wrote of %d clusters, want 3", len(h.f.endpoints))
	}
}
