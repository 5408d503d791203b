package app

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshfed/meshfed/federation/store"
)

// recorder watches one namespace of the store from a listing of it and remembers every event
// after it, with each put's value before and after (JSON), so a test can say what changed.
type recorder struct {
	mu      sync.Mutex
	values  map[string]string   // each key's latest value
	puts    map[string][]string // each put of a key: "rev N: old -> new"
	deletes []string
	rev     int64 // the revision of the last batch applied
}

// record starts a recorder of namespace ns once the hub has settled there (settledListing):
// what it records is then what the test's actions caused, not the end of an earlier change.
func record(t *testing.T, env *hubEnv, ns string) *recorder {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	l := env.settledListing(t, ns)
	r := &recorder{values: map[string]string{}, puts: map[string][]string{}}
	for _, e := range l.Entries {
		r.values[e.Key.String()] = recordJSON(e.Record)
	}
	w, err := env.store.Watch(ctx, store.NamespacePrefix(ns), l.Revision)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for b := range w.Batches() {
			r.apply(b)
		}
	}()
	return r
}

// settledListing waits until two whole federation passes of the hub ended with every key of
// namespace ns as it was before them, and returns the namespace's listing from then. Seeing a
// service's keys is not enough: a member's Service and its EndpointSlice arrive apart, so the
// hub may have written a record that a later pass completes. The first of the two passes may
// have begun before the listing; the second began after it.
func (e *hubEnv) settledListing(t *testing.T, ns string) store.Listing {
	t.Helper()
	list := func() store.Listing {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		l, err := e.store.List(ctx, store.NamespacePrefix(ns))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	deadline := time.Now().Add(60 * time.Second)
	l := list()
	for {
		before := hubMetrics(t).passes
		eventually(t, "two more federation passes", func() (bool, string) {
			n := hubMetrics(t).passes - before
			return n >= 2, fmt.Sprintf("%.0f passes", n)
		})
		next := list()
		if sameRevisions(l, next) {
			return next
		}
		if time.Now().After(deadline) {
			t.Fatalf("namespace %s still changing after 60s", ns)
		}
		l = next
	}
}

// sameRevisions reports whether two listings hold the same keys at the same mod revisions.
func sameRevisions(a, b store.Listing) bool {
	return slices.EqualFunc(a.Entries, b.Entries, func(x, y store.Entry) bool {
		return x.Key == y.Key && x.ModRevision == y.ModRevision
	})
}

func (r *recorder) apply(b store.Batch) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rev = b.Revision
	for _, ev := range b.Events {
		k := ev.Key.String()
		switch {
		case b.Snapshot:
		case ev.Type == store.EventDelete:
			r.deletes = append(r.deletes, k)
			delete(r.values, k)
		default:
			v := recordJSON(ev.Record)
			r.puts[k] = append(r.puts[k], fmt.Sprintf("rev %d: %s -> %s", ev.Revision, r.values[k], v))
			r.values[k] = v
		}
	}
}

// recordJSON is a record's value as a reader decoded it, for messages.
func recordJSON(rec store.Record) string {
	b, err := json.Marshal(rec)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// caughtUp waits until the recorder has applied the store's changes up to revision rev. The
// recorder follows the store through its own watch: a change the test has read from the store
// may not have reached it yet.
func (r *recorder) caughtUp(t *testing.T, rev int64) {
	t.Helper()
	eventually(t, fmt.Sprintf("the store watcher at revision %d", rev), func() (bool, string) {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.rev >= rev, fmt.Sprintf("at revision %d", r.rev)
	})
}

func (r *recorder) deleted() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.deletes)
}

func (r *recorder) putsOf(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.puts[key])
}

// changesOf describes each put of key: its revision, old and new value.
func (r *recorder) changesOf(key string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.puts[key], "\n")
}

// endpointsRecord reads one cluster's endpoints of a service; state describes a miss.
func (e *hubEnv) endpointsRecord(t *testing.T, ns, name, cluster string) (r *store.EndpointsRecord, state string) {
	t.Helper()
	r, _, state = e.endpointsEntry(t, ns, name, cluster)
	return r, state
}

// endpointsEntry is endpointsRecord with the record's mod revision.
func (e *hubEnv) endpointsEntry(t *testing.T, ns, name, cluster string) (r *store.EndpointsRecord, rev int64, state string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	entry, ok, err := e.store.Get(ctx, store.EndpointsKey(ns, "mesh.internal", name, cluster))
	switch {
	case err != nil:
		return nil, 0, err.Error()
	case !ok:
		return nil, 0, "absent"
	}
	r = entry.Record.(*store.EndpointsRecord)
	return r, entry.ModRevision, fmt.Sprintf("stale=%v endpoints=%d", r.Stale, len(r.Endpoints))
}

// TestMemberOutage stops a member's API server: its endpoints stay, marked stale; a restart
// before the grace period ends brings it back with no delete and re-add; a longer outage
// withdraws them.
func TestMemberOutage(t *testing.T) {
	// The grace must outlast a stop and restart of an API server on a loaded 2-core machine
	// (seen to take over 15 s while the rest of the suite runs).
	const grace = 40 * time.Second
	env := startHubWith(t, func(o *Options) { o.StaleGrace = grace }, "east-1", "west-1")
	export(t, env.members["east-1"].Client, "shop", "web", "global", "10.244.1.5")
	export(t, env.members["west-1"].Client, "shop", "web", "global", "10.244.2.5")
	westKey := store.EndpointsKey("shop", "mesh.internal", "web", "west-1").String()
	eventually(t, "both members' endpoints", func() (bool, string) {
		got := env.endpointClusters(t, "shop", "web")
		return slices.Equal(got, []string{"east-1", "west-1"}), fmt.Sprint(got)
	})
	rec := record(t, env, "shop")

	west := env.members["west-1"]
	stopDone := stopAsync(t, west.Stop)
	eventually(t, "west-1 endpoints marked stale", func() (bool, string) {
		r, state := env.endpointsRecord(t, "shop", "web", "west-1")
		return r != nil && r.Stale, state
	})
	<-stopDone
	if err := west.Restart(); err != nil {
		t.Fatal(err)
	}
	var freshRev int64
	eventually(t, "west-1 endpoints fresh again", func() (bool, string) {
		r, rev, state := env.endpointsEntry(t, "shop", "web", "west-1")
		freshRev = rev
		return r != nil && !r.Stale, state
	})
	// The test read the fresh record from the store; the recorder's watch may not have
	// delivered it yet.
	rec.caughtUp(t, freshRev)
	if d := rec.deleted(); len(d) != 0 {
		t.Fatalf("a short outage deleted keys: %v", d)
	}
	if n := rec.putsOf(westKey); n != 2 {
		t.Errorf("west-1 endpoints written %d times during the outage, want 2 (stale, fresh):\n%s", n, rec.changesOf(westKey))
	}

	// A longer outage withdraws the member's endpoints after the grace period.
	stopped := time.Now()
	stopDone = stopAsync(t, west.Stop)
	defer func() { <-stopDone }()
	eventually(t, "west-1 endpoints withdrawn after the grace period", func() (bool, string) {
		got := env.endpointClusters(t, "shop", "web")
		return slices.Equal(got, []string{"east-1"}), fmt.Sprint(got)
	})
	if held := time.Since(stopped); held < grace {
		t.Errorf("endpoints withdrawn after %v, before the %v grace", held, grace)
	}
	// The listing showed the withdrawal; the recorder's watch may deliver it later.
	eventually(t, "the store watcher to see the withdrawal", func() (bool, string) {
		d := rec.deleted()
		return len(d) > 0, fmt.Sprint(d)
	})
	if d := rec.deleted(); !slices.Equal(d, []string{westKey}) {
		t.Errorf("deleted %v, want only %s", d, westKey)
	}
}

// stopAsync runs stop in the background (an API server may take seconds to drain) so the test
// can watch what happens meanwhile; the channel closes when it returned.
func stopAsync(t *testing.T, stop func() error) <-chan struct{} {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()
	return done
}

// TestHubRestart stops and restarts the hub (and its embedded etcd): a store watcher sees no
// deletion and no rewrite of unchanged services, and changes made while the hub was down arrive.
func TestHubRestart(t *testing.T) {
	env := startHub(t, "east-1", "west-1")
	export(t, env.members["east-1"].Client, "shop", "web", "global", "10.244.1.5")
	export(t, env.members["west-1"].Client, "shop", "web", "global", "10.244.2.5")
	eventually(t, "both members' endpoints", func() (bool, string) {
		got := env.endpointClusters(t, "shop", "web")
		return slices.Equal(got, []string{"east-1", "west-1"}), fmt.Sprint(got)
	})
	rec := record(t, env, "shop")

	env.stop()
	export(t, env.members["east-1"].Client, "shop", "api", "global", "10.244.1.9")
	env.startHubProcess(t)
	eventually(t, "a service exported while the hub was down", func() (bool, string) {
		_, ok := env.service(t, "shop", "api")
		return ok, "api not published"
	})
	if d := rec.deleted(); len(d) != 0 {
		t.Errorf("hub restart deleted %v", d)
	}
	for _, k := range []store.Key{
		store.ServiceKey("shop", "mesh.internal", "web"),
		store.EndpointsKey("shop", "mesh.internal", "web", "east-1"),
		store.EndpointsKey("shop", "mesh.internal", "web", "west-1"),
	} {
		if n := rec.putsOf(k.String()); n != 0 {
			t.Errorf("unchanged %s rewritten %d times across the restart:\n%s", k, n, rec.changesOf(k.String()))
		}
	}
}
