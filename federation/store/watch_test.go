package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// batchTimeout bounds every wait for a batch.
const batchTimeout = 15 * time.Second

// nextBatch receives one batch or fails the test after batchTimeout.
func nextBatch(t *testing.T, w *Watcher) Batch {
	t.Helper()
	select {
	case b, ok := <-w.Batches():
		if !ok {
			t.Fatal("watch closed")
		}
		return b
	case <-time.After(batchTimeout):
		t.Fatal("no batch within timeout")
	}
	return Batch{}
}

// collect receives incremental batches until n events arrived, and returns the events rendered
// as "put:<key>" or "del:<key>", checking that revisions strictly increase.
func collect(t *testing.T, w *Watcher, n int, after int64) []string {
	t.Helper()
	var out []string
	last := after
	seen := make(map[string]bool)
	for len(out) < n {
		b := nextBatch(t, w)
		if b.Snapshot {
			t.Fatalf("unexpected snapshot at revision %d while following from %d", b.Revision, last)
		}
		for _, e := range b.Events {
			id := fmt.Sprintf("%s@%d", render(e), e.Revision)
			if e.Revision < last || e.Revision <= after || seen[id] {
				t.Fatalf("event %s not after revision %d (duplicate or out of order)", id, last)
			}
			seen[id], last = true, e.Revision
			out = append(out, render(e))
		}
	}
	return out
}

func render(e Event) string {
	prefix := map[EventType]string{EventPut: "put", EventDelete: "del"}[e.Type]
	if e.Err != nil {
		return "err:" + e.Err.Key
	}
	return prefix + ":" + e.Key.String()
}

func renderAll(es []Event) []string {
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, render(e))
	}
	return out
}

func mustWatch(t *testing.T, ctx context.Context, c *Client, prefix string, from int64) *Watcher {
	t.Helper()
	w, err := c.Watch(ctx, prefix, from)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	return w
}

func put(t *testing.T, w *Writer, r Record) {
	t.Helper()
	if _, err := w.Put(t.Context(), r); err != nil {
		t.Fatalf("Put(%s): %v", r.Key(), err)
	}
}

func del(t *testing.T, w *Writer, k Key) {
	t.Helper()
	if _, err := w.Delete(t.Context(), k); err != nil {
		t.Fatalf("Delete(%s): %v", k, err)
	}
}

func TestWatchDeliversInOrder(t *testing.T) {
	te := startTestEtcd(t)
	w := te.leader(t, "hub-0")
	pre := serviceRecord("shop", "pre")
	put(t, w, pre)
	watcher := mustWatch(t, t.Context(), te.connect(t), NamespacePrefix("shop"), 0)
	snap := nextBatch(t, watcher)
	if !snap.Snapshot || fmt.Sprint(renderAll(snap.Events)) != fmt.Sprint([]string{"put:" + pre.Key().String()}) {
		t.Fatalf("first batch = %+v, want a snapshot of the existing service", snap)
	}
	a, b := endpointsRecord("shop", "a", "east", 1), waypointsRecord("shop", "east")
	put(t, w, a)
	put(t, w, serviceRecord("blog", "other")) // another namespace: not delivered
	put(t, w, b)
	del(t, w, a.Key())
	got := collect(t, watcher, 3, snap.Revision)
	want := []string{"put:" + a.Key().String(), "put:" + b.Key().String(), "del:" + a.Key().String()}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
	if rev := mustRevision(t, w.client); watcher.Revision() != rev {
		t.Fatalf("watcher revision %d, store revision %d after the last event", watcher.Revision(), rev)
	}
}

func TestWatchResumesFromRevision(t *testing.T) {
	te := startTestEtcd(t)
	w := te.leader(t, "hub-0")
	c := te.connect(t)
	ctx, cancel := context.WithCancel(t.Context())
	first := mustWatch(t, ctx, c, NamespacePrefix("shop"), 0)
	if snap := nextBatch(t, first); !snap.Snapshot {
		t.Fatalf("first batch %+v is not a snapshot", snap)
	}
	a := endpointsRecord("shop", "a", "east", 1)
	put(t, w, a)
	first1 := nextBatch(t, first)
	if len(first1.Events) != 1 || first1.Snapshot || first.Revision() < first1.Revision {
		t.Fatalf("batch %+v, watcher revision %d", first1, first.Revision())
	}
	seen := first1.Revision // the consumer persists the revision of what it applied
	cancel()                // the consumer goes away ...
	b, c2 := endpointsRecord("shop", "b", "east", 1), endpointsRecord("shop", "c", "east", 1)
	put(t, w, b)
	put(t, w, c2)
	del(t, w, a.Key())
	second := mustWatch(t, t.Context(), c, NamespacePrefix("shop"), seen) // ... and comes back
	got := collect(t, second, 3, seen)
	want := []string{"put:" + b.Key().String(), "put:" + c2.Key().String(), "del:" + a.Key().String()}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("resumed events = %v, want %v", got, want)
	}
}

func TestWatchSurvivesEtcdRestart(t *testing.T) {
	te := startTestEtcd(t)
	w := te.leader(t, "hub-0")
	watcher := mustWatch(t, t.Context(), te.connect(t), NamespacePrefix("shop"), 0)
	snap := nextBatch(t, watcher)
	a, b := endpointsRecord("shop", "a", "east", 1), endpointsRecord("shop", "b", "east", 1)
	put(t, w, a)
	put(t, w, b)
	before := collect(t, watcher, 2, snap.Revision)
	seen := watcher.Revision()

	stopped := time.Now()
	te.stop()
	te.start(t) // same data dir, same client port
	t.Logf("etcd restarted in %s", time.Since(stopped))

	c := endpointsRecord("shop", "c", "east", 1)
	putEventually(t, w, c)
	t.Logf("first write %s after the stop", time.Since(stopped))
	del(t, w, a.Key())
	after := collect(t, watcher, 2, seen)
	t.Logf("watcher caught up %s after the stop", time.Since(stopped))
	want := []string{"put:" + c.Key().String(), "del:" + a.Key().String()}
	if fmt.Sprint(after) != fmt.Sprint(want) {
		t.Fatalf("events after restart = %v (before: %v), want %v", after, before, want)
	}
	if _, found, err := w.client.Get(t.Context(), b.Key()); err != nil || !found {
		t.Fatalf("a key written before the restart is gone: found %v, %v", found, err)
	}
}

// putEventually retries a Put while the client reconnects to a restarted etcd.
func putEventually(t *testing.T, w *Writer, r Record) {
	t.Helper()
	deadline := time.Now().Add(batchTimeout)
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		_, err := w.Put(ctx, r)
		cancel()
		if err == nil {
			return
		}
		t.Logf("Put attempt %d: %v", attempt, err)
		if errors.Is(err, ErrNotLeader) || time.Now().After(deadline) || attempt >= 20 {
			t.Fatalf("Put after restart (attempt %d): %v", attempt, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestWatchCompactionForcesSnapshot(t *testing.T) {
	te := startTestEtcd(t)
	w := te.leader(t, "hub-0")
	a, b, c := endpointsRecord("shop", "a", "east", 1), endpointsRecord("shop", "b", "east", 1), endpointsRecord("shop", "c", "east", 1)
	put(t, w, a)
	seen := mustRevision(t, w.client)
	put(t, w, b)
	del(t, w, a.Key())
	put(t, w, c)
	now := mustRevision(t, w.client)
	if _, err := w.client.etcd.Compact(t.Context(), now); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	watcher := mustWatch(t, t.Context(), te.connect(t), NamespacePrefix("shop"), seen)
	snap := nextBatch(t, watcher)
	want := []string{"put:" + b.Key().String(), "put:" + c.Key().String()}
	if !snap.Snapshot || snap.Revision != now || fmt.Sprint(renderAll(snap.Events)) != fmt.Sprint(want) {
		t.Fatalf("batch after compaction = snapshot %v at %d with %v; want snapshot at %d with %v",
			snap.Snapshot, snap.Revision, renderAll(snap.Events), now, want)
	}
	d := endpointsRecord("shop", "d", "east", 1)
	put(t, w, d)
	if got := collect(t, watcher, 1, now); got[0] != "put:"+d.Key().String() {
		t.Fatalf("event after snapshot = %v", got)
	}
}

func TestMalformedValuesAreReported(t *testing.T) {
	te := startTestEtcd(t)
	w := te.leader(t, "hub-0")
	ctx := t.Context()
	good := endpointsRecord("shop", "a", "east", 1)
	put(t, w, good)
	badJSON := EndpointsKey("shop", "mesh.internal", "b", "east").String()
	foreign := EndpointsKey("shop", "mesh.internal", "c", "east").String()
	_, westValue, err := Encode(endpointsRecord("shop", "c", "west", 1))
	if err != nil {
		t.Fatal(err)
	}
	rawPut(t, w.client, badJSON, `{"v":1,"endpoints":[`)
	rawPut(t, w.client, foreign, string(westValue)) // west's slice stored under east's key

	l, err := w.client.List(ctx, NamespacePrefix("shop"))
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(l.Entries) != 1 || len(l.Errors) != 2 || !errors.Is(l.Errors[1], ErrKeyMismatch) {
		t.Fatalf("List = %d entries, errors %v; want the good record and 2 decode errors, the second a key mismatch", len(l.Entries), l.Errors)
	}
	if _, _, err := w.client.Get(ctx, EndpointsKey("shop", "mesh.internal", "c", "east")); !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("Get of another cluster's record = %v, want ErrKeyMismatch", err)
	}

	watcher := mustWatch(t, ctx, w.client, NamespacePrefix("shop"), 0)
	snap := nextBatch(t, watcher)
	want := []string{"put:" + good.Key().String(), "err:" + badJSON, "err:" + foreign}
	if fmt.Sprint(renderAll(snap.Events)) != fmt.Sprint(want) {
		t.Fatalf("snapshot = %v, want %v", renderAll(snap.Events), want)
	}
	rawPut(t, w.client, badJSON, `{"v":7}`)
	next := endpointsRecord("shop", "d", "east", 1)
	put(t, w, next)
	got := collect(t, watcher, 2, snap.Revision)
	if want := []string{"err:" + badJSON, "put:" + next.Key().String()}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
}

// rawPut writes a value straight to etcd, bypassing encoding and fencing, as a buggy or hostile
// writer would.
func rawPut(t *testing.T, c *Client, key, value string) {
	t.Helper()
	if _, err := c.etcd.Put(t.Context(), key, value); err != nil {
		t.Fatalf("raw Put(%s): %v", key, err)
	}
}

func TestWatchRevisionAdvancesWhileQuiet(t *testing.T) {
	te := startTestEtcd(t)
	w := te.leader(t, "hub-0")
	watcher := mustWatch(t, t.Context(), te.connect(t), NamespacePrefix("shop"), 0)
	nextBatch(t, watcher)
	put(t, w, serviceRecord("blog", "elsewhere"))
	target := mustRevision(t, w.client)
	deadline := time.Now().Add(3 * progressInterval)
	for watcher.Revision() < target {
		if time.Now().After(deadline) {
			t.Fatalf("watcher revision %d never reached store revision %d", watcher.Revision(), target)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestWatchRejectsForeignPrefix(t *testing.T) {
	te := startTestEtcd(t)
	for _, p := range []string{"", "/", "/registry/", "/meshfed/v2/"} {
		if _, err := te.connect(t).Watch(t.Context(), p, 0); !errors.Is(err, ErrMalformedKey) || !strings.Contains(err.Error(), "not under") {
			t.Errorf("Watch(%q) = %v, want ErrMalformedKey", p, err)
		}
	}
}
