package table

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshfed/meshfed/federation/store"

	"github.com/meshfed/meshfed/waypoint/balance"
)

// refreshInterval is how often a running Table looks for ejections that have ended while no
// connection came by to notice.
const refreshInterval = time.Second

// Table is the waypoint's endpoint table: it follows the store for one namespace and keeps the
// current View, rebuilt and swapped atomically on every change of the store or of an
// ejection. Readers never block on the store: when it is unreachable the last View stays.
type Table struct {
	opts  Options
	log   *slog.Logger
	clock Clock

	mu      sync.Mutex // guards st, builder and rev while building
	st      state
	builder builder

	snap    atomic.Pointer[View]
	rev     atomic.Int64
	applied atomic.Int64 // wall time of the last applied batch, Unix nanoseconds
	ready   atomic.Bool
	changed <-chan struct{} // Changed's channel, the first of subs
	subs    []chan struct{} // every consumer's channel, guarded by mu
}

// NewTable returns an empty, not yet ready table; it does no I/O. opts must be valid.
func NewTable(opts Options) *Table {
	opts = opts.withDefaults()
	log := opts.Logger.With("component", "waypoint-table", "namespace", opts.Namespace)
	t := &Table{
		opts: opts, log: log, clock: opts.Clock, st: newState(opts.Locality.Network),
		builder: builder{opts: opts, log: log, pools: make(map[string]*balance.Pool)},
	}
	t.changed = t.Subscribe()
	t.snap.Store(&View{byPort: map[int32]*Route{}})
	return t
}

// Run follows the store's keys of the namespace from the last applied revision until ctx ends.
// The store client's watcher survives disconnects and etcd restarts on its own; Run returns
// nil when ctx ends and an error only when the watch cannot be started.
//
// When a service whose records the table keeps compacted stops being aggregated (compact.go),
// Run reads the namespace again from the store, as a new watch's snapshot, and follows it on.
func (t *Table) Run(ctx context.Context, c *store.Client) error {
	prefix := store.NamespacePrefix(t.opts.Namespace)
	ticker := time.NewTicker(refreshInterval)
	defer ticker.Stop()
	rev := t.Revision()
	for {
		wctx, cancel := context.WithCancel(ctx)
		w, err := c.Watch(wctx, prefix, rev)
		if err != nil {
			cancel()
			return fmt.Errorf("failed to watch prefix %s: %w", prefix, err)
		}
		reread := t.follow(w, ticker.C)
		cancel()
		if !reread {
			return nil
		}
		t.log.Info("reading the namespace's records again: a service whose remote endpoints were aggregated no longer is", "revision", t.Revision())
		rev = 0
	}
}

// follow applies w's batches until w ends (false) or the state asks for its records to be read
// again (true), and looks for ended ejections at every tick.
func (t *Table) follow(w *store.Watcher, tick <-chan time.Time) (reread bool) {
	for {
		select {
		case b, ok := <-w.Batches():
			if !ok {
				return false
			}
			t.Apply(b)
			if t.takeReread() {
				return true
			}
		case <-tick:
			t.View() // rebuilds when an ejection has ended
		}
	}
}

// takeReread reports, once, that the state holds compacted records of a service no longer
// aggregated, which only a new read of the store makes whole.
func (t *Table) takeReread() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.st.reread
	t.st.reread = false
	return r
}

// Apply applies one watch batch and swaps in a new snapshot when something changed. The first
// batch makes the table ready.
func (t *Table) Apply(b store.Batch) {
	t.mu.Lock()
	defer t.mu.Unlock()
	changed := t.st.apply(b, t.log)
	t.rev.Store(b.Revision)
	t.applied.Store(time.Now().UnixNano())
	if changed || !t.ready.Load() {
		s := t.swap(b.Revision, true, false)
		t.log.Info("endpoint table updated", "revision", b.Revision, "snapshot", b.Snapshot, "events", len(b.Events), "routes", len(s.Routes))
	} else {
		t.log.Debug("store batch changed nothing", "revision", b.Revision)
	}
}

// View returns the current view of the table. When an ejection recorded in it has ended by the
// table's clock, it first rebuilds so that the endpoint counts as healthy again.
func (t *Table) View() *View {
	s := t.snap.Load()
	if s.expires.IsZero() || t.clock.Now().Before(s.expires) {
		return s
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if s = t.snap.Load(); !s.expires.IsZero() && !t.clock.Now().Before(s.expires) {
		now := t.clock.Now()
		for _, r := range s.Routes {
			if !r.expires.IsZero() && !now.Before(r.expires) {
				t.st.touch(r.serviceKey)
			}
		}
		for _, ls := range s.services {
			if r := ls.route; !r.expires.IsZero() && !now.Before(r.expires) {
				t.st.touch(r.serviceKey)
			}
		}
		s = t.swap(t.rev.Load(), false, false)
	}
	return s
}

// RefreshRoute rebuilds the routes of r's service after an ejection in r's pool, the other
// routes staying as they are: only r's endpoints changed state.
func (t *Table) RefreshRoute(r *Route) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.st.touch(r.serviceKey)
	t.swap(t.rev.Load(), false, false)
}

// swap builds and stores a new snapshot and signals every subscriber (Changed too); t.mu is held.
// With fromStore (a store batch applied) the table turns ready before it signals: a subscriber
// woken by its first snapshot must see it ready (the outbound side opens the listeners of a
// ready table's snapshot and only then reports itself synced), or it would wait for its next
// timer to find out. A rebuild after an ejection does not make a table ready. full makes
// every route again, not only those of the services the state names as touched.
func (t *Table) swap(rev int64, fromStore, full bool) *View {
	s := t.builder.build(&t.st, rev, t.clock.Now(), full)
	t.snap.Store(s)
	if fromStore {
		t.ready.Store(true)
	}
	for _, c := range t.subs {
		notify(c)
	}
	return s
}

// notify sends on c unless a value is already waiting.
func notify(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Subscribe returns a channel that, like Changed, receives a value after snapshots have been
// swapped (coalesced), for one more consumer.
func (t *Table) Subscribe() <-chan struct{} {
	c := make(chan struct{}, 1)
	t.mu.Lock()
	t.subs = append(t.subs, c)
	t.mu.Unlock()
	return c
}

// Namespace is the namespace the table follows.
func (t *Table) Namespace() string { return t.opts.Namespace }

// Revision is the last store revision applied (0 before the first batch).
func (t *Table) Revision() int64 { return t.rev.Load() }

// Ready reports whether the first snapshot from the store has been applied.
func (t *Table) Ready() bool { return t.ready.Load() }

// Changed receives a value after snapshots have been swapped (coalesced: one value may stand
// for several swaps). Only one consumer should read it.
func (t *Table) Changed() <-chan struct{} { return t.changed }

// Clock is the table's clock.
func (t *Table) Clock() Clock { return t.clock }

// Applied is when the table last applied a watch batch; zero before the first.
func (t *Table) Applied() time.Time {
	if at := t.applied.Load(); at != 0 {
		return time.Unix(0, at)
	}
	return time.Time{}
}
