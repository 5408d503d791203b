package store

import (
	"context"
	"reflect"
	"testing"
)

// TestListBaselineKeepsChunks: a client that listed a split record lists it again reading only
// the chunks that changed, and every listing and baseline equals what a fresh client reads:
// after one endpoint changed, after many changed (the group read whole), after another record
// was added and the first removed. A record whose head did not change is the record the
// previous listing returned, not joined again; the records its heads are joined into on demand
// equal those List joins.
func TestListBaselineKeepsChunks(t *testing.T) {
	te := startTestEtcd(t)
	w := te.leader(t, "hub-0")
	ctx := t.Context()
	hub := te.connect(t)
	big := largeEndpointsRecord("shop", "big", "east-1", 10000)
	other := largeEndpointsRecord("shop", "other", "east-1", 3000)
	sync := func(recs ...Record) {
		t.Helper()
		if res, err := w.Sync(ctx, SelectClusterEndpoints("east-1"), recs); err != nil || res.Failed != 0 {
			t.Fatalf("Sync = %+v, %v", res, err)
		}
	}
	flip := func(r *EndpointsRecord, from, n int) {
		for i := from; i < from+n; i++ {
			r.Endpoints[i].Ready = !r.Endpoints[i].Ready
		}
	}
	steps := []struct {
		name      string
		change    func()
		maxValues int // chunk values the caching client may read at most
		reused    bool
	}{
		{"first listing", func() { sync(big) }, 1 << 20, false},
		{"unchanged", func() {}, 0, true},
		{"one endpoint changed", func() { flip(big, 4321, 1); sync(big) }, 2, false},
		{"many endpoints changed", func() { flip(big, 0, 9000); sync(big) }, 1 << 20, false},
		{"another record added", func() { sync(big, other) }, 1 << 20, true},
		{"the first record removed", func() { sync(other) }, 0, false},
		{"nothing left", func() { sync() }, 0, false},
	}
	var last *EndpointsRecord
	for _, st := range steps {
		st.change()
		fresh := te.connect(t)
		want, wantSnap := listBaseline(ctx, t, fresh)
		read, err := hub.listWithoutChunks(ctx, NamespacesPrefix)
		if err != nil {
			t.Fatal(err)
		}
		values := 0
		for _, kv := range read.kvs {
			if _, held := read.held[string(kv.Key)]; !held && isChunkKey(kv) {
				values++
			}
		}
		got, gotSnap := listBaseline(ctx, t, hub)
		if !reflect.DeepEqual(got.Entries, want.Entries) || len(got.Errors) != 0 {
			t.Fatalf("%s: the caching client listed %d entries (%d errors), a fresh one %d", st.name, len(got.Entries), len(got.Errors), len(want.Entries))
		}
		if !reflect.DeepEqual(got.Endpoints(), want.Endpoints()) {
			t.Fatalf("%s: the caching client's endpoints records differ from a fresh one's", st.name)
		}
		listed, err := fresh.List(ctx, NamespacesPrefix)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Endpoints(), listed.Endpoints()) {
			t.Fatalf("%s: the endpoints records joined on demand differ from List's", st.name)
		}
		if !reflect.DeepEqual(gotSnap.kvs, wantSnap.kvs) {
			t.Fatalf("%s: the caching client's baseline differs from a fresh one's", st.name)
		}
		now := findEndpoints(got.Endpoints(), "big")
		if reused := now != nil && now == last; reused != st.reused {
			t.Fatalf("%s: the record of the unchanged head was the previous listing's: %v, want %v", st.name, reused, st.reused)
		}
		last = now
		if values > st.maxValues {
			t.Fatalf("%s: %d chunk values read again, want at most %d", st.name, values, st.maxValues)
		}
		t.Logf("%s: %d keys, %d chunks held, %d chunk values read", st.name, len(read.kvs), len(read.held), values)
	}
}

func listBaseline(ctx context.Context, t *testing.T, c *Client) (Listing, *Baseline) {
	t.Helper()
	l, snap, err := c.ListBaseline(ctx, NamespacesPrefix)
	if err != nil {
		t.Fatal(err)
	}
	return l, snap
}

func isChunkKey(kv *storedKV) bool {
	k, err := ParseKey(string(kv.Key))
	return err == nil && k.Kind == KindEndpointsChunk
}

// TestWriterReusesFrozenRecords: handed the same frozen record again, the writer stores the
// values it stored it as (nothing to write); a record that is not frozen is encoded again,
// so one modified in place since the last Sync is written.
func TestWriterReusesFrozenRecords(t *testing.T) {
	te := startTestEtcd(t)
	w := te.leader(t, "hub-0")
	ctx := t.Context()
	sync := func(r *EndpointsRecord) SyncResult {
		t.Helper()
		res, err := w.Sync(ctx, SelectClusterEndpoints("east-1"), []Record{r})
		if err != nil || res.Failed != 0 {
			t.Fatalf("Sync = %+v, %v", res, err)
		}
		return res
	}
	frozen := largeEndpointsRecord("shop", "big", "east-1", 3000).Freeze()
	sync(frozen)
	vals, err := w.splits.storedForm(frozen)
	if err != nil {
		t.Fatal(err)
	}
	again, err := w.splits.storedForm(frozen)
	if err != nil || &again[0] != &vals[0] {
		t.Fatalf("the frozen record was encoded again (%v)", err)
	}
	if res := sync(frozen); res.Put != 0 || res.Deleted != 0 {
		t.Fatalf("the same frozen record synced again: %+v, want nothing written", res)
	}
	open := largeEndpointsRecord("shop", "big", "east-1", 3000)
	sync(open)
	open.Endpoints[1234].Ready = !open.Endpoints[1234].Ready
	if res := sync(open); res.Put != 2 || res.Deleted != 1 {
		t.Fatalf("a record modified in place synced again: %+v, want its changed chunk and head put, the old chunk deleted", res)
	}
}
