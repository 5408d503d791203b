package store

import (
	"fmt"
	"testing"
)

// TestSyncFromSnapshot: Syncs planned against one snapshot write what Syncs that read the
// store would, keep the snapshot current across Syncs over the same keys (no conflict, so no
// re-read), and read the store again once a key they write changed behind the snapshot's back.
func TestSyncFromSnapshot(t *testing.T) {
	te := startTestEtcd(t)
	w := te.leader(t, "hub-0")
	ctx := t.Context()
	for _, r := range []Record{
		serviceRecord("shop", "a"), serviceRecord("shop", "b"),
		endpointsRecord("shop", "a", "east", 1), endpointsRecord("shop", "b", "east", 1),
	} {
		if _, err := w.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	listing, snap, err := w.client.NewView(NamespacesPrefix).Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(listing.Entries) != 2 || len(listing.Errors) != 0 {
		t.Fatalf("Refresh listed %d entries and %d errors, want the 2 services and 0", len(listing.Entries), len(listing.Errors))
	}

	// Services first, then endpoints, then services again: the third plans against what the
	// first wrote.
	res, err := w.SyncFrom(ctx, snap, SelectServices(""), []Record{serviceRecord("shop", "a"), serviceRecord("shop", "c")})
	if want := (SyncResult{Put: 1, Deleted: 1, Unchanged: 1}); err != nil || res != want {
		t.Fatalf("services SyncFrom = %+v, %v; want %+v", res, err, want)
	}
	res, err = w.SyncFrom(ctx, snap, SelectClusterEndpoints("east"), []Record{endpointsRecord("shop", "a", "east", 2)})
	if want := (SyncResult{Put: 1, Deleted: 1}); err != nil || res != want {
		t.Fatalf("endpoints SyncFrom = %+v, %v; want %+v", res, err, want)
	}
	res, err = w.SyncFrom(ctx, snap, SelectServices(""), []Record{serviceRecord("shop", "c")})
	if want := (SyncResult{Deleted: 1, Unchanged: 1}); err != nil || res != want {
		t.Fatalf("second services SyncFrom = %+v, %v; want %+v", res, err, want)
	}
	if snap.stale {
		t.Fatal("the snapshot went stale though only its own writer wrote")
	}
	assertStore(t, w, "[service shop/c endpoints shop/a@east:2]")

	// A key changed behind the snapshot: the write planned for it fails its guard, SyncFrom
	// reads the store and converges, and the snapshot is not trusted again.
	if _, err := w.Put(ctx, endpointsRecord("shop", "a", "east", 3)); err != nil {
		t.Fatal(err)
	}
	res, err = w.SyncFrom(ctx, snap, SelectClusterEndpoints("east"), []Record{endpointsRecord("shop", "a", "east", 4)})
	if want := (SyncResult{Put: 1}); err != nil || res != want {
		t.Fatalf("SyncFrom after an outside write = %+v, %v; want %+v", res, err, want)
	}
	if !snap.stale {
		t.Fatal("the snapshot is still trusted after a conflict")
	}
	assertStore(t, w, "[service shop/c endpoints shop/a@east:4]")

	// A snapshot of another prefix is never used for a selector outside it.
	_, other, err := w.client.NewView(ServicesPrefix("blog")).Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := other.kvsFor(Selector{Prefix: NamespacesPrefix}); ok {
		t.Fatal("a snapshot of one namespace answered for all of them")
	}
}

// assertStore compares every record under NamespacesPrefix with want.
func assertStore(t *testing.T, w *Writer, want string) {
	t.Helper()
	l, err := w.client.List(t.Context(), NamespacesPrefix)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range l.Services() {
		got = append(got, fmt.Sprintf("service %s/%s", r.Namespace, r.Name))
	}
	for _, r := range l.Endpoints() {
		got = append(got, fmt.Sprintf("endpoints %s/%s@%s:%d", r.Namespace, r.Name, r.Cluster, len(r.Endpoints)))
	}
	if fmt.Sprint(got) != want {
		t.Fatalf("store holds %v, want %s", got, want)
	}
}

// TestStoredHolds: a digested value compares like the value itself.
func TestStoredHolds(t *testing.T) {
	a, b := []byte(`{"v":1,"name":"a"}`), []byte(`{"v":1,"name":"b"}`)
	for _, s := range []stored{
		{key: "k", value: a},
		{key: "k", sum: digest(a), digested: true},
	} {
		if !s.holds(a) || s.holds(b) || s.holds(nil) {
			t.Errorf("%+v: holds(a)=%v holds(b)=%v holds(nil)=%v, want true false false", s, s.holds(a), s.holds(b), s.holds(nil))
		}
	}
}

// TestListLargeDecodesInOrder: a listing large enough to be decoded on every core keeps the
// store's key order, reports each bad value once and leaves out the leader key.
func TestListLargeDecodesInOrder(t *testing.T) {
	te := startTestEtcd(t)
	w := te.leader(t, "hub-0")
	ctx := t.Context()
	const n = 3 * parallelDecodeMin
	desired := make([]Record, 0, n)
	for i := range n {
		desired = append(desired, serviceRecord("shop", fmt.Sprintf("svc-%04d", i)))
	}
	if _, err := w.Sync(ctx, SelectServices("shop"), desired); err != nil {
		t.Fatal(err)
	}
	bad := ServiceKey("shop", "mesh.internal", "svc-0400x").String() // sorts between svc-0400 and svc-0401
	rawPut(t, w.client, bad, `{"v":1,"ports":`)
	l, err := w.client.List(ctx, Root)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Entries) != n || len(l.Errors) != 1 || l.Errors[0].Key != bad {
		t.Fatalf("List = %d entries and errors %v; want %d and one for %s", len(l.Entries), l.Errors, n, bad)
	}
	for i, e := range l.Entries {
		if want := fmt.Sprintf("svc-%04d", i); e.Record.(*ServiceRecord).Name != want {
			t.Fatalf("entry %d is %s, want %s", i, e.Key, want)
		}
	}
}

// TestSyncFromSnapshotByCluster: Syncs of one cluster's endpoints after another, against one
// snapshot, find the keys the earlier ones wrote (a record stored in parts, then removed) and
// leave the other clusters' keys alone.
func TestSyncFromSnapshotByCluster(t *testing.T) {
	te := startTestEtcd(t)
	w := te.leader(t, "hub-0")
	ctx := t.Context()
	for _, r := range []Record{endpointsRecord("shop", "a", "east", 1), endpointsRecord("shop", "b", "east", 1), endpointsRecord("shop", "c", "west", 1)} {
		if _, err := w.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	_, snap, err := w.client.NewView(NamespacesPrefix).Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	big := largeEndpointsRecord("shop", "big", "east", 5000)
	steps := []struct {
		sel     Selector
		desired []Record
		want    SyncResult
	}{
		{SelectClusterEndpoints("east"), []Record{endpointsRecord("shop", "a", "east", 1), big}, SyncResult{Put: 48, Deleted: 1, Unchanged: 1}},
		{SelectClusterEndpoints("west"), []Record{endpointsRecord("shop", "c", "west", 2)}, SyncResult{Put: 1}},
		{SelectClusterEndpoints("east"), []Record{endpointsRecord("shop", "a", "east", 1)}, SyncResult{Deleted: 48, Unchanged: 1}},
	}
	for i, st := range steps {
		res, err := w.SyncFrom(ctx, snap, st.sel, st.desired)
		if err != nil || res != st.want {
			t.Fatalf("step %d: SyncFrom = %+v, %v; want %+v", i, res, err, st.want)
		}
	}
	if snap.stale {
		t.Fatal("the snapshot went stale though only its own writer wrote")
	}
	assertStore(t, w, "[endpoints shop/a@east:1 endpoints shop/c@west:2]")
}

// TestFrozenRecordStoredWholeRewritten: the writer keeps only the digest of a frozen record
// stored whole (an endpoints record, a service record); handed the same record after someone
// else changed its key, Sync, SyncFrom and Put each write its full encoding back.
func TestFrozenRecordStoredWholeRewritten(t *testing.T) {
	for _, tc := range []struct {
		rec Record
		sel Selector
	}{
		{rec: endpointsRecord("shop", "a", "east", 3).Freeze(), sel: SelectClusterEndpoints("east")},
		{rec: serviceRecord("shop", "a").Freeze(), sel: SelectServices("shop")},
	} {
		t.Run(tc.rec.Key().Kind.String(), func(t *testing.T) {
			frozenRewritten(t, startTestEtcd(t).leader(t, "hub-0"), tc.rec, tc.sel)
		})
	}
}

// frozenRewritten is TestFrozenRecordStoredWholeRewritten for one frozen record rec, which sel
// selects, written by w.
func frozenRewritten(t *testing.T, w *Writer, rec Record, sel Selector) {
	ctx := t.Context()
	_, want, err := Encode(rec)
	if err != nil {
		t.Fatal(err)
	}
	key := rec.Key().String()
	tamper := func() {
		t.Helper()
		if _, err := w.client.etcd.Put(ctx, key, `{"v":1,"namespace":"shop"}`); err != nil {
			t.Fatal(err)
		}
	}
	check := func(how string) {
		t.Helper()
		resp, err := w.client.etcd.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != string(want) {
			t.Fatalf("after %s the store holds %q, want %q", how, resp.Kvs, want)
		}
	}
	if res, err := w.Sync(ctx, sel, []Record{rec}); err != nil || res.Put != 1 {
		t.Fatalf("first Sync = %+v, %v", res, err)
	}
	check("the first Sync")
	if res, err := w.Sync(ctx, sel, []Record{rec}); err != nil || res.Put != 0 || res.Unchanged != 1 {
		t.Fatalf("Sync of the unchanged record = %+v, %v; want it unchanged", res, err)
	}
	tamper()
	if res, err := w.Sync(ctx, sel, []Record{rec}); err != nil || res.Put != 1 {
		t.Fatalf("Sync after a change = %+v, %v; want one put", res, err)
	}
	check("Sync")
	tamper()
	_, snap, err := w.client.NewView(NamespacesPrefix).Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := w.SyncFrom(ctx, snap, sel, []Record{rec}); err != nil || res.Put != 1 {
		t.Fatalf("SyncFrom after a change = %+v, %v; want one put", res, err)
	}
	check("SyncFrom")
	tamper()
	if written, err := w.Put(ctx, rec); err != nil || !written {
		t.Fatalf("Put after a change = %v, %v; want written", written, err)
	}
	check("Put")
}
