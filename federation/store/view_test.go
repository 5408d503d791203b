package store

import (
	"context"
	"fmt"
	"maps"
	"testing"
)

// TestViewReadsWhatChanged: every Refresh returns what a fresh read of the store shows (the
// records but endpoints records, every key's mod revision and digest), and reads only the
// values whose mod revision changed since the last Refresh, less those its own Baseline wrote
// and does not decode.
func TestViewReadsWhatChanged(t *testing.T) {
	te := startTestEtcd(t)
	w := te.leader(t, "hub-0")
	ctx := t.Context()
	hub := te.connect(t)
	view := hub.NewView(NamespacesPrefix)
	var base *Baseline
	put := func(r Record) {
		t.Helper()
		if _, err := w.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	syncFrom := func(sel Selector, recs ...Record) {
		t.Helper()
		if res, err := w.SyncFrom(ctx, base, sel, recs); err != nil || res.Failed != 0 {
			t.Fatalf("SyncFrom = %+v, %v", res, err)
		}
	}
	flipped := endpointsRecord("shop", "a", "east", 3)
	flipped.Endpoints[1].Ready = false
	big := largeEndpointsRecord("shop", "big", "east", 5000)
	steps := []struct {
		name    string
		change  func()
		fetched int
		errors  int
	}{
		{"first", func() {
			for i := range 3 {
				put(serviceRecord("shop", fmt.Sprint("svc-", i)))
				put(endpointsRecord("shop", fmt.Sprint("svc-", i), "east", 3))
			}
			put(waypointsRecord("shop", "east"))
		}, 7, 0},
		{"unchanged", func() {}, 0, 0},
		{"an endpoints record written by someone else", func() { put(endpointsRecord("shop", "svc-1", "east", 4)) }, 1, 0},
		{"a service written by someone else", func() { put(serviceRecord("shop", "svc-9")) }, 1, 0},
		{"endpoints and a service written through the baseline", func() {
			syncFrom(SelectClusterEndpoints("east"), endpointsRecord("shop", "svc-0", "east", 3), endpointsRecord("shop", "svc-1", "east", 4), endpointsRecord("shop", "svc-2", "east", 2))
			syncFrom(SelectServices(""), serviceRecord("shop", "svc-0"), serviceRecord("shop", "svc-1"), serviceRecord("shop", "svc-2"), serviceRecord("shop", "svc-3"))
		}, 1, 0}, // the new service svc-3 is decoded; svc-9's deletion and the endpoints are known
		{"a split record written through the baseline", func() {
			syncFrom(SelectClusterEndpoints("east"), endpointsRecord("shop", "svc-0", "east", 3), endpointsRecord("shop", "svc-1", "east", 4), endpointsRecord("shop", "svc-2", "east", 2), big)
		}, 0, 0},
		{"an undecodable value", func() {
			if _, err := hub.etcd.Put(ctx, ServiceKey("shop", "mesh.internal", "bad").String(), "{not json"); err != nil {
				t.Fatal(err)
			}
		}, 1, 1},
		{"still undecodable", func() {}, 0, 1},
		{"keys deleted", func() {
			if _, err := hub.etcd.Delete(ctx, ServiceKey("shop", "mesh.internal", "bad").String()); err != nil {
				t.Fatal(err)
			}
			syncFrom(SelectClusterEndpoints("east"), endpointsRecord("shop", "svc-0", "east", 3))
		}, 0, 0},
	}
	for _, st := range steps {
		st.change()
		l, b, err := view.Refresh(ctx)
		if err != nil {
			t.Fatalf("%s: Refresh: %v", st.name, err)
		}
		base = b
		if got := view.Fetched(); got != st.fetched {
			t.Errorf("%s: Refresh read %d values, want %d", st.name, got, st.fetched)
		}
		if len(l.Errors) != st.errors {
			t.Errorf("%s: %d decode errors (%v), want %d", st.name, len(l.Errors), l.Errors, st.errors)
		}
		wantListing, wantKeys := freshView(ctx, t, te.connect(t))
		if got, want := describeEntries(l.Entries), describeEntries(wantListing.Entries); got != want {
			t.Errorf("%s: listing %s, a fresh List shows %s", st.name, got, want)
		}
		if l.Revision != wantListing.Revision {
			t.Errorf("%s: listing at revision %d, store at %d", st.name, l.Revision, wantListing.Revision)
		}
		if !maps.EqualFunc(b.kvs, wantKeys, func(a, b stored) bool { return a.modRev == b.modRev && a.sum == b.sum && a.digested && b.digested }) {
			t.Errorf("%s: baseline of %d keys differs from the store's %d keys", st.name, len(b.kvs), len(wantKeys))
		}
	}
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
