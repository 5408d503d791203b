package store

import (
	"context"
	"fmt"
	"maps"
	"testing"
)

// viewFixture is a hub's view of the namespaces and the fenced writer that writes beside it
// (on its own client, as any other writer would).
type viewFixture struct {
	te   *testEtcd
	w    *Writer
	hub  *Client
	view *View
	// base is the last Refresh's Baseline, which the SyncFrom writes record theirs in.
	base *Baseline
}

// newViewFixture starts etcd, a writer, and a hub client with an empty view.
func newViewFixture(t *testing.T) *viewFixture {
	te := startTestEtcd(t)
	f := &viewFixture{te: te, w: te.leader(t, "hub-0"), hub: te.connect(t)}
	f.view = f.hub.NewView(NamespacesPrefix)
	t.Cleanup(f.view.Close)
	return f
}

// put writes r through the writer.
func (f *viewFixture) put(t *testing.T, r Record) {
	t.Helper()
	if _, err := f.w.Put(t.Context(), r); err != nil {
		t.Fatal(err)
	}
}

// syncFrom syncs sel to recs against the last Refresh's Baseline, as the hub's passes do.
func (f *viewFixture) syncFrom(t *testing.T, sel Selector, recs ...Record) {
	t.Helper()
	if res, err := f.w.SyncFrom(t.Context(), f.base, sel, recs); err != nil || res.Failed != 0 {
		t.Fatalf("SyncFrom = %+v, %v", res, err)
	}
}

// refresh refreshes the view, keeps its Baseline for the next SyncFrom, and reports how what
// it returned differs from a fresh read of the store ("" when it does not).
func (f *viewFixture) refresh(t *testing.T) (Listing, string) {
	t.Helper()
	l, b, err := f.view.Refresh(t.Context())
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	f.base = b
	return l, differsFromStore(t, f.te.connect(t), l, b)
}

// viewStep is one change to the store and what the Refresh after it takes from the store.
type viewStep struct {
	name   string
	change func()
	// fetched is the number of values the Refresh reads when it reads the keys; received the
	// number of puts it applies from the watch.
	fetched, received int
	errors            int
	// foreign is the number of keys the Refresh that applies the watch's changes finds
	// changed by writes other than its Baseline's (View.Foreign).
	foreign int
}

// steps are the changes TestViewReadsWhatChanged and TestViewFollowsTheWatch make, one after
// the other: puts, deletes, the hub's own writes, other writers' writes and values that do
// not decode.
func (f *viewFixture) steps(t *testing.T) []viewStep {
	ctx := t.Context()
	big := largeEndpointsRecord("shop", "big", "east", 5000)
	return []viewStep{
		{"first", func() {
			for i := range 3 {
				f.put(t, serviceRecord("shop", fmt.Sprint("svc-", i)))
				f.put(t, endpointsRecord("shop", fmt.Sprint("svc-", i), "east", 3))
			}
			f.put(t, waypointsRecord("shop", "east"))
		}, 7, 7, 0, 0}, // the first Refresh reads everything: no watch yet
		{"unchanged", func() {}, 0, 0, 0, 0},
		{"an endpoints record written by someone else", func() { f.put(t, endpointsRecord("shop", "svc-1", "east", 4)) }, 1, 1, 0, 1},
		{"a service written by someone else", func() { f.put(t, serviceRecord("shop", "svc-9")) }, 1, 1, 0, 1},
		{"endpoints and a service written through the baseline", func() {
			f.syncFrom(t, SelectClusterEndpoints("east"), endpointsRecord("shop", "svc-0", "east", 3), endpointsRecord("shop", "svc-1", "east", 4), endpointsRecord("shop", "svc-2", "east", 2))
			f.syncFrom(t, SelectServices(""), serviceRecord("shop", "svc-0"), serviceRecord("shop", "svc-1"), serviceRecord("shop", "svc-2"), serviceRecord("shop", "svc-3"))
		}, 1, 2, 0, 0}, // read: the new service svc-3 is decoded, svc-9's deletion and svc-2's endpoints are known; watched: svc-2's endpoints and svc-3 put
		{"a split record written through the baseline", func() {
			f.syncFrom(t, SelectClusterEndpoints("east"), endpointsRecord("shop", "svc-0", "east", 3), endpointsRecord("shop", "svc-1", "east", 4), endpointsRecord("shop", "svc-2", "east", 2), big)
		}, 0, 48, 0, 0}, // watched: the record's head and its 47 chunks (its keys in the store)
		{"an undecodable value", func() {
			rawPut(t, f.hub, ServiceKey("shop", "mesh.internal", "bad").String(), "{not json")
		}, 1, 1, 1, 1},
		{"still undecodable", func() {}, 0, 0, 1, 0},
		{"keys deleted", func() {
			if _, err := f.hub.etcd.Delete(ctx, ServiceKey("shop", "mesh.internal", "bad").String()); err != nil {
				t.Fatal(err)
			}
			f.syncFrom(t, SelectClusterEndpoints("east"), endpointsRecord("shop", "svc-0", "east", 3))
		}, 0, 0, 0, 1}, // the hub's deletes are its own; the other client's is not
	}
}

// TestViewReadsWhatChanged: a Refresh without its watch (closed before it) returns what a
// fresh read of the store shows (the records but endpoints records, every key's mod revision
// and digest), and reads only the values whose mod revision changed since the last Refresh,
// less those its own Baseline wrote and does not decode.
func TestViewReadsWhatChanged(t *testing.T) {
	f := newViewFixture(t)
	for i, st := range f.steps(t) {
		st.change()
		f.view.Close()
		l, diff := f.refresh(t)
		if diff != "" {
			t.Errorf("%s: %s", st.name, diff)
		}
		if got := f.view.Fetched(); got != st.fetched {
			t.Errorf("%s: Refresh read %d values, want %d", st.name, got, st.fetched)
		}
		if len(l.Errors) != st.errors {
			t.Errorf("%s: %d decode errors (%v), want %d", st.name, len(l.Errors), l.Errors, st.errors)
		}
		if f.view.fullReads != i+1 {
			t.Errorf("%s: %d Refreshes read the keys, want every one (%d)", st.name, f.view.fullReads, i+1)
		}
		if _, all := f.view.Foreign(); !all {
			t.Errorf("%s: a Refresh that read the keys does not say any key may have changed", st.name)
		}
	}
}

// TestViewFollowsTheWatch: after its first Refresh a view applies what its watch received,
// reads no key, and returns what a fresh read shows at once after each change (a Refresh
// reflects every write committed before it).
func TestViewFollowsTheWatch(t *testing.T) {
	f := newViewFixture(t)
	for i, st := range f.steps(t) {
		st.change()
		l, diff := f.refresh(t)
		if diff != "" {
			t.Errorf("%s: %s", st.name, diff)
		}
		if foreign, all := f.view.Foreign(); all != (i == 0) || len(foreign) != st.foreign {
			t.Errorf("%s: Foreign = %v, all %v; want %d keys, all %v", st.name, foreign, all, st.foreign, i == 0)
		}
		if got := f.view.Fetched(); got != st.received {
			t.Errorf("%s: Refresh took %d values, want %d", st.name, got, st.received)
		}
		if len(l.Errors) != st.errors {
			t.Errorf("%s: %d decode errors (%v), want %d", st.name, len(l.Errors), l.Errors, st.errors)
		}
		if f.view.fullReads != 1 {
			t.Errorf("%s: %d Refreshes read the keys, want only the first", st.name, f.view.fullReads)
		}
	}
	// Writes by yet another client, each refreshed at once: the Refresh must wait for the watch.
	other := f.te.connect(t)
	for i := range 20 {
		rawPut(t, other, ServiceKey("shop", "mesh.internal", fmt.Sprint("quick-", i%3)).String(), fmt.Sprint("{not json ", i))
		l, diff := f.refresh(t)
		if diff != "" || len(l.Errors) != min(i+1, 3) {
			t.Fatalf("write %d refreshed at once: %d decode errors, %s", i, len(l.Errors), diff)
		}
	}
	if f.view.fullReads != 1 {
		t.Errorf("%d Refreshes read the keys, want only the first", f.view.fullReads)
	}
}

// TestViewFallsBackToReadingKeys: a watch that may have missed a change (compacted past, ended
// under the view, holding more than its bound) is dropped, and the Refresh reads the keys: its
// result is still what the store holds, and the next Refresh follows a new watch.
func TestViewFallsBackToReadingKeys(t *testing.T) {
	f := newViewFixture(t)
	ctx := t.Context()
	refreshed := func(what string, fullReads int) {
		t.Helper()
		if _, diff := f.refresh(t); diff != "" {
			t.Errorf("%s: %s", what, diff)
		}
		if f.view.fullReads != fullReads {
			t.Errorf("%s: %d Refreshes read the keys, want %d", what, f.view.fullReads, fullReads)
		}
	}
	f.put(t, serviceRecord("shop", "a"))
	refreshed("first", 1)

	// The watch starts from a revision compacted since, as when etcd compacts between the
	// view's read and the watch's start.
	from := mustRevision(t, f.hub)
	f.put(t, serviceRecord("shop", "b"))
	f.put(t, endpointsRecord("shop", "b", "east", 2))
	if _, err := f.hub.etcd.Compact(ctx, mustRevision(t, f.hub)); err != nil {
		t.Fatal(err)
	}
	f.view.mu.Lock()
	f.view.watch.stop()
	f.view.watch = f.hub.watchView(f.view.prefix, from, f.view.maxEvents)
	f.view.mu.Unlock()
	refreshed("compacted past the watch", 2)
	f.put(t, serviceRecord("shop", "c"))
	refreshed("watched again after the compaction", 2)

	// The watch ends under the view (as when the client closes its channel), before a put.
	f.view.watch.stop()
	f.put(t, serviceRecord("shop", "d"))
	refreshed("watch ended", 3)

	// More changes than the watch may hold: it gives up rather than grow.
	f.view.Close()
	f.view.maxEvents = 2
	refreshed("closed", 4)
	for _, name := range []string{"e", "f", "g"} {
		f.put(t, serviceRecord("shop", name))
	}
	refreshed("three changes, two held", 5)
	f.put(t, serviceRecord("shop", "h"))
	refreshed("one change held", 5)
}

// TestViewMissingAnEventIsSeen: the comparison the view tests make fails when the view misses
// a change: the watch's events taken away before the Refresh applies them.
func TestViewMissingAnEventIsSeen(t *testing.T) {
	f := newViewFixture(t)
	f.put(t, serviceRecord("shop", "a"))
	if _, diff := f.refresh(t); diff != "" {
		t.Fatal(diff)
	}
	f.put(t, serviceRecord("shop", "b"))
	f.view.mu.Lock()
	lost, _, err := f.view.watch.through(t.Context(), mustRevision(t, f.hub))
	f.view.mu.Unlock()
	if err != nil || len(lost) != 1 {
		t.Fatalf("watch held %d events, %v; want the one put", len(lost), err)
	}
	if _, diff := f.refresh(t); diff == "" {
		t.Fatal("a Refresh that missed a put looks like the store")
	}
	f.view.Close()
	if _, diff := f.refresh(t); diff != "" {
		t.Fatalf("after Close: %s", diff)
	}
}

// differsFromStore reports how a Refresh's listing and Baseline differ from what a fresh read
// by c shows ("" when they do not).
func differsFromStore(t *testing.T, c *Client, l Listing, b *Baseline) string {
	t.Helper()
	wantListing, wantKeys := freshView(t.Context(), t, c)
	if got, want := describeEntries(l.Entries), describeEntries(wantListing.Entries); got != want {
		return fmt.Sprintf("listing %s, a fresh List shows %s", got, want)
	}
	if l.Revision != wantListing.Revision {
		return fmt.Sprintf("listing at revision %d, store at %d", l.Revision, wantListing.Revision)
	}
	if !maps.EqualFunc(b.kvs, wantKeys, func(a, b stored) bool { return a.modRev == b.modRev && a.sum == b.sum && a.digested && b.digested }) {
		return fmt.Sprintf("baseline of %d keys differs from the store's %d keys", len(b.kvs), len(wantKeys))
	}
	return ""
}

// freshView is what a View must return, from a client that read nothing before: List's
// records but endpoints records, and every key's mod revision and digest.
func freshView(ctx context.Context, t *testing.T, c *Client) (Listing, map[string]stored) {
	t.Helper()
	l, err := c.List(ctx, NamespacesPrefix)
	if err != nil {
		t.Fatal(err)
	}
	out := Listing{Revision: l.Revision}
	for _, e := range l.Entries {
		if e.Key.Kind != KindEndpoints {
			out.Entries = append(out.Entries, e)
		}
	}
	raw, _, err := c.listRaw(ctx, NamespacesPrefix)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]stored{}
	for _, kv := range raw {
		keys[string(kv.Key)] = stored{key: string(kv.Key), modRev: kv.ModRevision, sum: digest(kv.Value), digested: true}
	}
	return out, keys
}

// describeEntries names each entry's key, mod revision and record.
func describeEntries(es []Entry) string {
	out := ""
	for _, e := range es {
		out += fmt.Sprintf("%s@%d=%+v ", e.Key, e.ModRevision, e.Record)
	}
	return out
}
