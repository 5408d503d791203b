package store

import (
	"errors"
	"fmt"
	"testing"
)

func TestSyncReconcilesOnlyTheSelection(t *testing.T) {
	te := startTestEtcd(t)
	w := te.leader(t, "hub-0")
	ctx := t.Context()
	for _, r := range []Record{
		endpointsRecord("shop", "a", "east", 1),
		endpointsRecord("shop", "b", "east", 1),
		endpointsRecord("shop", "c", "east", 1),
		endpointsRecord("shop", "a", "west", 1),
		endpointsRecord("blog", "c", "west", 1),
		serviceRecord("shop", "a"),
		waypointsRecord("shop", "east"),
	} {
		if _, err := w.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	untouched := modRevisions(t, w.client, EndpointsKey("shop", "mesh.internal", "a", "west"),
		EndpointsKey("blog", "mesh.internal", "c", "west"), ServiceKey("shop", "mesh.internal", "a"), WaypointsKey("shop", "east"))

	desired := []Record{
		endpointsRecord("shop", "a", "east", 2), // changed
		endpointsRecord("shop", "b", "east", 1), // identical
		endpointsRecord("blog", "d", "east", 1), // new; shop/c is absent and goes
	}
	res, err := w.Sync(ctx, SelectClusterEndpoints("east"), desired)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if want := (SyncResult{Put: 2, Deleted: 1, Unchanged: 1}); res != want {
		t.Fatalf("Sync = %+v, want %+v", res, want)
	}
	l, err := w.client.List(ctx, NamespacesPrefix)
	if err != nil {
		t.Fatal(err)
	}
	var east []string
	for _, r := range l.Endpoints() {
		if r.Cluster == "east" {
			east = append(east, fmt.Sprintf("%s/%s:%d", r.Namespace, r.Name, len(r.Endpoints)))
		}
	}
	if got, want := fmt.Sprint(east), "[blog/d:1 shop/a:2 shop/b:1]"; got != want {
		t.Fatalf("east endpoints after Sync = %s, want %s", got, want)
	}
	for key, rev := range modRevisions(t, w.client, keysOf(untouched)...) {
		if untouched[key] != rev {
			t.Errorf("Sync touched unselected key %s (mod revision %d -> %d)", key, untouched[key], rev)
		}
	}

	before := mustRevision(t, w.client)
	res, err = w.Sync(ctx, SelectClusterEndpoints("east"), desired)
	if err != nil || res != (SyncResult{Unchanged: 3}) {
		t.Fatalf("repeated Sync = %+v, %v; want 3 unchanged", res, err)
	}
	if after := mustRevision(t, w.client); after != before {
		t.Fatalf("repeated Sync moved the revision from %d to %d", before, after)
	}
}

func TestSyncBatchesLargeChanges(t *testing.T) {
	te := startTestEtcd(t)
	w := te.leader(t, "hub-0")
	ctx := t.Context()
	const n = 150
	desired := make([]Record, 0, n)
	for i := range n {
		desired = append(desired, serviceRecord("shop", fmt.Sprintf("svc-%03d", i)))
	}
	before := w.Stats()
	res, err := w.Sync(ctx, SelectServices("shop"), desired)
	if err != nil || res.Put != n {
		t.Fatalf("Sync = %+v, %v; want %d puts", res, err, n)
	}
	wantTxns := int64((n + maxOpsPerTxn - 1) / maxOpsPerTxn)
	if s := w.Stats(); s.Txns-before.Txns != wantTxns || s.KeysPut-before.KeysPut != n {
		t.Fatalf("stats = %+v (before %+v), want %d txns and %d keys", s, before, wantTxns, n)
	}
	res, err = w.Sync(ctx, SelectServices("shop"), desired[:1])
	if err != nil || res.Deleted != n-1 {
		t.Fatalf("shrinking Sync = %+v, %v; want %d deletes", res, err, n-1)
	}
}

func TestSyncRejectsRecordsOutsideSelection(t *testing.T) {
	te := startTestEtcd(t)
	w := te.leader(t, "hub-0")
	tests := []struct {
		name    string
		sel     Selector
		desired []Record
	}{
		{"other cluster", SelectClusterEndpoints("east"), []Record{endpointsRecord("shop", "a", "west", 1)}},
		{"other kind", SelectServices("shop"), []Record{waypointsRecord("shop", "east")}},
		{"other namespace", SelectServices("shop"), []Record{serviceRecord("blog", "a")}},
		{"duplicate", SelectServices(""), []Record{serviceRecord("blog", "a"), serviceRecord("blog", "a")}},
		{"duplicate frozen", SelectServices(""), []Record{serviceRecord("blog", "a").Freeze(), serviceRecord("blog", "a").Freeze()}},
		{"duplicate stored in parts", SelectClusterEndpoints("east"), []Record{
			largeEndpointsRecord("shop", "a", "east", 5000), largeEndpointsRecord("shop", "a", "east", 5000),
		}},
		{"duplicate that does not encode", SelectServices(""), []Record{&ServiceRecord{Namespace: "blog", Name: "a"}, &ServiceRecord{Namespace: "blog", Name: "a"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := mustRevision(t, w.client)
			if _, err := w.Sync(t.Context(), tt.sel, tt.desired); !errors.Is(err, ErrInvalidRecord) {
				t.Fatalf("Sync = %v, want ErrInvalidRecord", err)
			}
			if after := mustRevision(t, w.client); after != before {
				t.Fatalf("a rejected Sync wrote (revision %d -> %d)", before, after)
			}
		})
	}
}

// modRevisions returns the mod revision of each key (0 if absent).
func modRevisions(t *testing.T, c *Client, keys ...Key) map[Key]int64 {
	t.Helper()
	out := make(map[Key]int64, len(keys))
	for _, k := range keys {
		e, _, err := c.Get(t.Context(), k)
		if err != nil {
			t.Fatalf("Get(%s): %v", k, err)
		}
		out[k] = e.ModRevision
	}
	return out
}

func keysOf(m map[Key]int64) []Key {
	out := make([]Key, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
