package controller

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/federation/writeback"
)

// FederationOptions configure the federation loop.
type FederationOptions struct {
	// Ports is the waypoint port range.
	Ports PortRange
	// Debounce gathers a burst of member events into one pass: a pass starts Debounce after
	// the first event it serves, or at once when a pass in flight already held it that long.
	Debounce time.Duration
	// Resync is the longest time between two passes, events or not.
	Resync time.Duration
	// Slices says which imports get MCS EndpointSlices in importing members; "" means none.
	Slices writeback.SliceMode
	// TrustDomain is the SPIFFE trust domain of the identities the waypoints records of shared
	// gateways name (GatewayID); "" means DefaultTrustDomain.
	TrustDomain string
}

// Federation merges every member's exports and publishes them: store records, and GlobalService
// objects on the hub. The hub runs it only while it holds its Lease, and every store write is
// fenced by the writer's etcd leadership.
type Federation struct {
	hub     client.Client
	members *Members
	store   *store.Client
	writer  *store.Writer
	opts    FederationOptions
	log     *slog.Logger
	wake    chan struct{}
	// woken is when the first Trigger not yet served by a pass came (unix nanoseconds; 0 when
	// none is waiting).
	woken atomic.Int64
	now   func() time.Time
	// namespaces are the hub namespaces known to exist; only the loop's goroutine uses it.
	namespaces map[string]bool
	// reported are the member problems already recorded as Events; only the loop uses it.
	reported map[problemKey]bool
	// notWritten are the store records the last pass could not write; only the loop uses it.
	notWritten map[store.Key]bool
	// memo keeps the merge's copies of unchanged exporters' endpoints between passes, and
	// records the endpoints records built from them.
	memo    merge.Memo
	records recordMemo
	// endpoints are the endpoints records the loop last wrote, by cluster.
	endpoints endpointsWritten
	// slices keeps what each member's MCS EndpointSlices were last made from.
	slices writeback.SliceMemo
	// views are what the passes read of the store, kept between them (see store.View).
	views storeViews
	// derived keeps what the last gathered pass derived from each member (see derivedFrom);
	// only the loop uses it.
	derived derivedMembers
	// buffer is the list of exports the passes fill, kept between them (see exportsBuffer).
	buffer exportsBuffer
}

// storeViews are the federation's views of the store: the namespaces and the gateways, and
// when they were made.
type storeViews struct {
	namespaces, gateways *store.View
	made                 time.Time
}

// viewsRenewal is how many Resync periods the views live: then a pass reads the whole store
// again, a safety net under the views' reading of what changed.
const viewsRenewal = 10

// newStoreViews returns empty views of st, whose first reads read everything.
func newStoreViews(st *store.Client, now time.Time) storeViews {
	if st == nil {
		return storeViews{}
	}
	return storeViews{namespaces: st.NewView(store.NamespacesPrefix), gateways: st.NewView(store.GatewaysPrefix), made: now}
}

// close stops the views' watches (a view is nil without a store).
func (v storeViews) close() {
	v.namespaces.Close()
	v.gateways.Close()
}

// renewViews makes new views when the current ones lived viewsRenewal Resync periods, and
// stops the old ones' watches. It forgets the members' derivations then too, a safety net
// under their events counts: the pass derives every member again.
func (f *Federation) renewViews() {
	if now := f.now(); f.opts.Resync > 0 && now.Sub(f.views.made) >= viewsRenewal*f.opts.Resync {
		f.views.close()
		f.views = newStoreViews(f.store, now)
		f.derived = nil
	}
}

// NewFederation returns the loop; Trigger wakes it.
func NewFederation(hub client.Client, st *store.Client, w *store.Writer, opts FederationOptions, log *slog.Logger) *Federation {
	return &Federation{
		hub: hub, store: st, writer: w, opts: opts, log: log, wake: make(chan struct{}, 1), now: time.Now,
		namespaces: map[string]bool{}, reported: map[problemKey]bool{}, views: newStoreViews(st, time.Now()),
	}
}

// SetMembers connects the loop to the member registry (they reference each other).
func (f *Federation) SetMembers(m *Members) { f.members = m }

// Trigger asks for a pass; it never blocks.
func (f *Federation) Trigger() {
	f.woken.CompareAndSwap(0, time.Now().UnixNano())
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Start campaigns for store leadership, then runs passes until ctx ends. Store passes and
// their publication to the members run in two goroutines: a store pass never waits for a
// member's API server, and publication always works from the latest outcome (older ones it
// has not reached are skipped). A failed step is logged and retried with backoff; it never
// stops the loop.
//
// When ctx ends, Start abandons the pass in flight (the store stays consistent: a pass writes
// services before their endpoints, and the next leader's first pass completes it), waits for
// publication to stop, and resigns the store leadership before it returns, so that a successor
// campaigns without waiting for this writer's session to expire. The caller releases its
// Kubernetes Lease only after Start returned.
func (f *Federation) Start(ctx context.Context) error {
	if err := f.writer.Campaign(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // shut down before leading
		}
		return fmt.Errorf("failed to become store leader: %w", err)
	}
	f.log.Info("store leadership acquired")
	defer f.resign()
	// The views' watches end with the passes; a later Start's first Refresh watches again.
	defer func() { f.views.close() }()
	latest := make(chan *outcome, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Go(func() { f.publishLoop(ctx, latest) })
	backoff := time.Duration(0)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-f.writer.Done():
			return fmt.Errorf("lost store leadership")
		case <-f.wake:
			time.Sleep(debounceLeft(f.opts.Debounce, f.woken.Load(), time.Now()))
		case <-timer.C:
		}
		// Events from here on are after the pass began to read; they wake the next one.
		f.woken.Store(0)
		o, err := f.storePass(ctx)
		if err != nil {
			if ctx.Err() != nil {
				f.log.Info("federation pass abandoned: shutting down")
				return nil
			}
			backoff = nextBackoff(backoff)
			f.log.Error("federation pass failed", "error", err, "retryIn", backoff)
			timer.Reset(backoff)
			continue
		}
		backoff = 0
		timer.Reset(f.opts.Resync)
		replaceLatest(latest, o)
	}
}

// debounceLeft is how much longer a burst whose first event came at woken (unix nanoseconds;
// 0: unknown) waits for more at now: what is left of d. A change that came while a pass was
// running has waited that pass out already, and does not wait d again on top of it.
func debounceLeft(d time.Duration, woken int64, now time.Time) time.Duration {
	if woken == 0 {
		return d
	}
	return min(d, max(0, d-now.Sub(time.Unix(0, woken))))
}

// resignTimeout bounds the resignation of the store leadership at shutdown.
const resignTimeout = 5 * time.Second

// resign gives up the store leadership after the loop stopped. A failure is not fatal: the
// session then ends with its TTL, and a successor that knows this replica is gone evicts it.
func (f *Federation) resign() {
	ctx, cancel := context.WithTimeout(context.Background(), resignTimeout)
	defer cancel()
	if err := f.writer.Resign(ctx); err != nil {
		f.log.Warn("store leadership not resigned; it ends with its session", "error", err)
	}
}

// publishLoop publishes each outcome it receives, retrying a failed one with backoff until it
// succeeds or a newer outcome arrives.
func (f *Federation) publishLoop(ctx context.Context, latest chan *outcome) {
	retry := time.NewTimer(0)
	retry.Stop()
	defer retry.Stop()
	var o *outcome
	backoff := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return
		case o = <-latest:
			retry.Stop()
			backoff = 0
		case <-retry.C:
		}
		recheck, err := f.publish(ctx, o)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			backoff = nextBackoff(backoff)
			f.log.Error("publishing federation pass failed", "error", err, "retryIn", backoff)
			retry.Reset(backoff)
		case recheck:
			retry.Reset(recheckInterval)
		}
	}
}

// recheckInterval is how soon an outcome is published again when the write-back waits for a
// member's state that changes without an event the hub sees (a takeover meshfed-dns has not
// confirmed yet): about meshfed-dns's check interval.
const recheckInterval = 5 * time.Second

// replaceLatest puts o into the one-slot channel, dropping an outcome not yet published.
func replaceLatest(latest chan *outcome, o *outcome) {
	select {
	case <-latest:
	default:
	}
	latest <- o
}

// nextBackoff doubles a retry delay between 100ms and 10s.
func nextBackoff(d time.Duration) time.Duration {
	return min(max(2*d, 100*time.Millisecond), 10*time.Second)
}
