package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Bounds of a View's watch.
const (
	// viewWatchWait bounds how long Refresh waits for the watch to deliver through the store's
	// current revision before it drops the watch and reads the prefix's keys instead.
	viewWatchWait = 2 * time.Second
	// viewProgressRetry is how often Refresh asks again for the watch's progress while it
	// waits: a request is lost when the client reconnects, and etcd answers only on the
	// stream's watchers, so a request sent before the watch exists reaches no one.
	viewProgressRetry = 100 * time.Millisecond
	// viewWatchMaxEvents bounds the events a watch holds for the next Refresh; beyond it the
	// watch gives up (the next Refresh reads the keys), so a view not refreshed for long does not
	// grow without bound.
	viewWatchMaxEvents = 100_000
	// viewWatchMaxBytes bounds the values the held events keep (only those of records the view
	// decodes: an endpoints record's event keeps its digest).
	viewWatchMaxBytes = 64 << 20
	// viewWatchStopWait bounds how long Close waits for the watch's goroutine to end after
	// canceling it (etcd's client closes the channel as soon as it sees the cancellation).
	viewWatchStopWait = 5 * time.Second
)

// Why a View's watch was dropped, besides what etcd reports.
var (
	errViewWatchBehind = errors.New("view watch did not reach the store's revision in time")
	errViewWatchFull   = errors.New("view watch holds too many unapplied events")
	errViewWatchOrder  = errors.New("view watch delivered a revision it had delivered before")
	errViewWatchEnded  = errors.New("view watch canceled")
)

// viewEvent is what a View keeps of a changed key: the change's revision, the parsed key and,
// for a put, the value's digest and, when the view decodes the key's kind, the value.
type viewEvent struct {
	key      string
	parsed   Key
	parseErr error
	modRev   int64
	deleted  bool
	sum      uint64
	value    []byte
}

// viewEventOf is what a View keeps of a key-value put (read, or received in an event).
func viewEventOf(kv *storedKV) viewEvent {
	key := string(kv.Key)
	k, err := ParseKey(key)
	ev := viewEvent{key: key, parsed: k, parseErr: err, modRev: kv.ModRevision, sum: digest(kv.Value)}
	if decodedInView(k, err) {
		ev.value = kv.Value
	}
	return ev
}

// entry is what a View holds of the key the put ev stored: its mod revision and digest, and its
// decoded record (or why it did not decode) when the view decodes its kind.
func (ev *viewEvent) entry() viewEntry {
	e := viewEntry{stored: stored{key: ev.key, modRev: ev.modRev, sum: ev.sum, digested: true, parsed: ev.parsed, parseErr: ev.parseErr, isParsed: true}}
	if decodedInView(ev.parsed, ev.parseErr) {
		var de Entry
		de, e.derr = decodeKV(&storedKV{Key: []byte(ev.key), Value: ev.value, ModRevision: ev.modRev})
		e.rec = de.Record
	}
	return e
}

// viewWatch follows a View's prefix from the revision after the view's last full read, and
// holds what changed until a Refresh takes it. Its goroutine only receives; Refresh applies.
type viewWatch struct {
	etcd *clientv3.Client
	// ctx is the watch's; progress requests are sent with it, since etcd's client sends a
	// request on the stream of the context's metadata, and etcd answers it on that stream.
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when the goroutine has ended
	// wake is signaled (one slot: a missed signal is one already pending) whenever created, rev
	// or err changes.
	wake      chan struct{}
	maxEvents int

	mu      sync.Mutex
	created bool  // etcd has created the watch, so it answers progress requests
	rev     int64 // events holds every change of the prefix through this revision
	events  []viewEvent
	bytes   int   // values held in events
	err     error // why the watch ended: it holds nothing more
}

// watchView starts a watch of prefix from the revision after rev, when the view read it all;
// it holds at most maxEvents events.
func (c *Client) watchView(prefix string, rev int64, maxEvents int) *viewWatch {
	ctx, cancel := context.WithCancel(clientv3.WithRequireLeader(context.Background()))
	w := &viewWatch{
		etcd: c.etcd, ctx: ctx, cancel: cancel, done: make(chan struct{}), wake: make(chan struct{}, 1),
		maxEvents: maxEvents, rev: rev,
	}
	wch := c.etcd.Watch(ctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1), clientv3.WithCreatedNotify())
	go w.run(wch)
	return w
}

// run takes the watch's responses until one reports trouble or the channel closes (when the
// watch is canceled, or the client closed); then the watch holds its error and nothing more.
func (w *viewWatch) run(wch clientv3.WatchChan) {
	defer close(w.done)
	for resp := range wch {
		if err := w.take(&resp); err != nil {
			w.end(err)
			w.cancel() // etcd's client stops serving the channel: nothing is left to drain
			return
		}
	}
	w.end(errWatchClosed)
}

// take records one watch response: the watch's creation, a progress notification (every
// change through its revision has been received), or the events of whole revisions (etcd
// never splits a revision over responses).
func (w *viewWatch) take(resp *clientv3.WatchResponse) error {
	switch {
	case resp.CompactRevision != 0:
		return fmt.Errorf("view watch compacted at revision %d: %w", resp.CompactRevision, rpctypes.ErrCompacted)
	case resp.Err() != nil:
		return resp.Err()
	case resp.Canceled:
		return errViewWatchEnded
	}
	events := make([]viewEvent, 0, len(resp.Events))
	for _, ev := range resp.Events {
		if isLeaderKey(ev.Kv.Key) {
			continue
		}
		if ev.Type == clientv3.EventTypeDelete {
			events = append(events, viewEvent{key: string(ev.Kv.Key), modRev: ev.Kv.ModRevision, deleted: true})
			continue
		}
		events = append(events, viewEventOf(ev.Kv))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	defer w.signal()
	switch {
	case resp.Created:
		w.created = true
	case resp.IsProgressNotify():
		w.rev = max(w.rev, resp.Header.Revision)
	}
	last := w.rev
	for _, ev := range resp.Events {
		// A revision at or before the one the watch holds through, or revisions out of order,
		// would mean a change was missed or doubled.
		if r := ev.Kv.ModRevision; r <= w.rev || r < last {
			return fmt.Errorf("%w: revision %d after %d", errViewWatchOrder, r, max(last, w.rev))
		}
		last = ev.Kv.ModRevision
	}
	w.rev = last
	for _, ev := range events {
		w.bytes += len(ev.value)
	}
	w.events = append(w.events, events...)
	if len(w.events) > w.maxEvents || w.bytes > viewWatchMaxBytes {
		return fmt.Errorf("%w: %d events, %d bytes of values", errViewWatchFull, len(w.events), w.bytes)
	}
	return nil
}

// end records why the watch ended and lets go of what it held.
func (w *viewWatch) end(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
	w.events, w.bytes = nil, 0
	w.signal()
}

// signal wakes a Refresh waiting for the watch.
func (w *viewWatch) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// through waits, up to viewWatchWait, until the watch holds every change through revision
// target, and takes what it holds: the events, and the revision (target or later) through
// which they are every change. It asks etcd for progress, since a prefix that did not change
// up to target delivers no event that would say so.
func (w *viewWatch) through(ctx context.Context, target int64) ([]viewEvent, int64, error) {
	deadline := time.NewTimer(viewWatchWait)
	defer deadline.Stop()
	retry := time.NewTicker(viewProgressRetry)
	defer retry.Stop()
	requested := false
	for {
		w.mu.Lock()
		created, rev, err := w.created, w.rev, w.err
		if err == nil && rev >= target {
			events := w.events
			w.events, w.bytes = nil, 0
			w.mu.Unlock()
			return events, rev, nil
		}
		w.mu.Unlock()
		if err != nil {
			return nil, 0, err
		}
		if created && !requested {
			w.requestProgress()
			requested = true
		}
		select {
		case <-w.wake:
		case <-retry.C:
			requested = false
		case <-deadline.C:
			return nil, 0, fmt.Errorf("%w: at revision %d of %d after %s", errViewWatchBehind, rev, target, viewWatchWait)
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		}
	}
}

// requestProgress asks etcd to report the watch's revision. A request that fails is asked
// again after viewProgressRetry; the wait for it is bounded by viewWatchWait.
func (w *viewWatch) requestProgress() {
	ctx, cancel := context.WithTimeout(w.ctx, viewProgressRetry)
	defer cancel()
	_ = w.etcd.RequestProgress(ctx)
}

// stop cancels the watch and waits, up to viewWatchStopWait, for its goroutine to end.
func (w *viewWatch) stop() {
	w.cancel()
	t := time.NewTimer(viewWatchStopWait)
	defer t.Stop()
	select {
	case <-w.done:
	case <-t.C:
	}
}
