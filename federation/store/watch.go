package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Timing of Watch.
const (
	// progressInterval is how often a watcher asks etcd to confirm its revision while its prefix
	// is quiet, so that Revision (and the lag computed from it) stays current.
	progressInterval = 5 * time.Second
	// minRetry and maxRetry bound the wait between attempts to re-establish a failed watch.
	minRetry = 100 * time.Millisecond
	maxRetry = 5 * time.Second
)

// errWatchClosed reports a watch channel etcd closed without saying why.
var errWatchClosed = errors.New("watch channel closed")

// EventType says whether an event put or deleted a key.
type EventType int

// The event types.
const (
	// EventPut is a created or updated key; a snapshot holds only puts.
	EventPut EventType = iota + 1
	// EventDelete is a removed key.
	EventDelete
)

// Event is one change of one key.
type Event struct {
	Type EventType
	// Key is the parsed key; zero when the key itself is malformed (then Err is set).
	Key Key
	// Record is the decoded record of a put; nil for deletes and for values that failed.
	Record Record
	// Err reports a put whose key or value could not be decoded. Consumers should treat the key
	// as absent (drop what they held for it) and report the error.
	Err *DecodeError
	// Revision is the etcd revision of the change.
	Revision int64
}

// Batch is what a watcher delivers: either a snapshot or incremental events, in revision order.
//
// A snapshot (Snapshot true) is the complete state of the prefix at Revision, as puts only: the
// consumer replaces everything it holds for the prefix with it, which drops keys deleted while
// it could not follow. A watcher sends one when started from revision 0 and whenever the
// revision it must resume from has been compacted away. Otherwise a batch holds the events of
// one or more consecutive revisions, all newer than any batch before.
//
// An endpoints record stored in parts arrives whole: the watcher keeps its chunks and delivers
// the record (as a put of an *EndpointsRecord) when its head arrives, never a part of it. A
// batch whose revisions changed only chunks holds no events.
type Batch struct {
	Snapshot bool
	Revision int64
	Events   []Event
}

// Watcher follows a prefix and survives disconnects, etcd restarts and compaction.
type Watcher struct {
	client *Client
	prefix string
	ch     chan Batch
	rev    atomic.Int64
	// parts holds the chunks under the prefix; only run's goroutine uses it.
	parts *parts
}

// Watch follows every key under prefix (which must lie under Root). fromRevision is the last
// revision the consumer has already applied: the watcher delivers changes after it, or a
// snapshot first when it is 0 or has been compacted. Batches arrive on Batches until ctx ends.
func (c *Client) Watch(ctx context.Context, prefix string, fromRevision int64) (*Watcher, error) {
	if !strings.HasPrefix(prefix, Root) {
		return nil, fmt.Errorf("failed to watch prefix %q: not under %s: %w", prefix, Root, ErrMalformedKey)
	}
	w := &Watcher{client: c, prefix: prefix, ch: make(chan Batch), parts: newParts()}
	w.rev.Store(fromRevision)
	go w.run(ctx)
	return w, nil
}

// Batches delivers the batches in order; it is closed after ctx ends.
func (w *Watcher) Batches() <-chan Batch { return w.ch }

// Revision is the latest revision up to which the watcher has delivered (or is handing over)
// every change of its prefix, advanced by etcd progress notifications while the prefix is quiet.
// The store's current revision minus this is the watcher's lag. It is never older than a batch
// the consumer has received; to resume after a restart, pass the Revision of the last batch
// the consumer applied.
func (w *Watcher) Revision() int64 { return w.rev.Load() }

// run snapshots when needed and follows etcd, re-establishing the watch with a bounded backoff
// until ctx ends.
func (w *Watcher) run(ctx context.Context) {
	defer close(w.ch)
	needSnapshot := w.rev.Load() == 0
	needParts := !needSnapshot // resuming: learn the chunks stored at the revision resumed from
	wait := minRetry
	for ctx.Err() == nil {
		var err error
		switch {
		case needSnapshot:
			err = w.snapshot(ctx)
			needSnapshot = err != nil
		case needParts:
			var compacted bool
			compacted, err = w.loadParts(ctx)
			needParts, needSnapshot = err != nil && !compacted, compacted
			if compacted {
				continue
			}
		}
		if err == nil {
			var compacted bool
			started := time.Now()
			compacted, err = w.follow(ctx)
			if time.Since(started) > maxRetry {
				wait = minRetry // the watch was healthy for a while: start the backoff afresh
			}
			if compacted {
				w.client.log.Info("watch revision compacted, relisting", "prefix", w.prefix, "revision", w.rev.Load())
				needSnapshot, wait = true, minRetry
				continue
			}
		}
		if ctx.Err() != nil {
			return
		}
		w.client.log.Warn("store watch interrupted, retrying", "prefix", w.prefix, "revision", w.rev.Load(), "retryIn", wait, "error", err)
		if !sleep(ctx, wait) {
			return
		}
		wait = min(2*wait, maxRetry)
	}
}

// snapshot lists the prefix and delivers it as a snapshot batch.
func (w *Watcher) snapshot(ctx context.Context) error {
	kvs, rev, err := w.client.listRaw(ctx, w.prefix)
	if err != nil {
		return err
	}
	events := make([]Event, 0, len(kvs))
	w.parts = newParts()
	for _, kv := range kvs {
		if ev, ok := putEvent(kv); ok {
			events = append(events, ev)
			if c, ok := ev.Record.(*EndpointsChunk); ok {
				w.parts.chunks[ev.Key.String()] = c // heads sort before their chunks
			}
		}
	}
	return w.deliver(ctx, Batch{Snapshot: true, Revision: rev, Events: w.parts.apply(events)})
}

// loadParts reads the chunks stored under the prefix at the revision the watcher resumes
// from, so that heads arriving later can be joined with chunks written before. It reports
// whether that revision was compacted.
func (w *Watcher) loadParts(ctx context.Context) (compacted bool, err error) {
	kvs, _, err := w.client.listRawAt(ctx, w.prefix, w.rev.Load())
	if errors.Is(err, rpctypes.ErrCompacted) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	w.parts = newParts()
	for _, kv := range kvs {
		if k, err := ParseKey(string(kv.Key)); err != nil || k.Kind != KindEndpointsChunk {
			continue
		}
		if ev, ok := putEvent(kv); ok && ev.Err == nil {
			w.parts.chunks[ev.Key.String()] = ev.Record.(*EndpointsChunk)
		}
	}
	return false, nil
}

// follow watches from the revision after the last delivered one until the watch fails. It
// reports whether it failed because that revision was compacted.
func (w *Watcher) follow(ctx context.Context) (compacted bool, err error) {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wch := w.client.etcd.Watch(wctx, w.prefix, clientv3.WithPrefix(), clientv3.WithRev(w.rev.Load()+1), clientv3.WithProgressNotify())
	ticker := time.NewTicker(progressInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-ticker.C:
			// A failed request only delays the next revision report; the watch itself goes on.
			_ = w.client.etcd.RequestProgress(wctx)
		case resp, ok := <-wch:
			if !ok {
				return false, errWatchClosed
			}
			if resp.CompactRevision != 0 {
				return true, nil
			}
			if err := resp.Err(); err != nil {
				return false, err
			}
			if err := w.handle(ctx, &resp); err != nil {
				return false, err
			}
		}
	}
}

// handle delivers the new events of one watch response, or records a progress notification.
func (w *Watcher) handle(ctx context.Context, resp *clientv3.WatchResponse) error {
	last := w.rev.Load()
	if resp.IsProgressNotify() {
		if r := resp.Header.Revision; r > last {
			w.rev.Store(r)
		}
		return nil
	}
	b := Batch{Revision: last}
	for _, ev := range resp.Events {
		if ev.Kv.ModRevision <= last {
			continue // already delivered before a reconnect
		}
		if e, ok := changeEvent(ev); ok {
			b.Events = append(b.Events, e)
		}
		b.Revision = ev.Kv.ModRevision
	}
	if b.Revision == last {
		return nil
	}
	b.Events = w.parts.apply(b.Events)
	return w.deliver(ctx, b)
}

// deliver hands a batch to the consumer. The revision is recorded before the hand-over, so a
// consumer that has received a batch never reads an older Revision; it is put back if the
// hand-over is abandoned.
func (w *Watcher) deliver(ctx context.Context, b Batch) error {
	prev := w.rev.Swap(b.Revision)
	select {
	case w.ch <- b:
		return nil
	case <-ctx.Done():
		w.rev.CompareAndSwap(b.Revision, prev)
		return ctx.Err()
	}
}

// changeEvent turns an etcd event into an Event; ok is false for the writers' election keys.
func changeEvent(ev *clientv3.Event) (Event, bool) {
	if ev.Type == clientv3.EventTypePut {
		return putEvent(ev.Kv)
	}
	if isLeaderKey(ev.Kv.Key) {
		return Event{}, false
	}
	e := Event{Type: EventDelete, Revision: ev.Kv.ModRevision}
	k, err := ParseKey(string(ev.Kv.Key))
	if err != nil {
		e.Err = &DecodeError{Key: string(ev.Kv.Key), Err: err}
	}
	e.Key = k
	return e, true
}

// putEvent decodes a stored key-value into a put Event; ok is false for election keys.
func putEvent(kv *storedKV) (Event, bool) {
	if isLeaderKey(kv.Key) {
		return Event{}, false
	}
	e := Event{Type: EventPut, Revision: kv.ModRevision}
	entry, derr := decodeKV(kv)
	if derr != nil {
		e.Err = derr
		e.Key, _ = ParseKey(string(kv.Key))
		return e, true
	}
	e.Key, e.Record = entry.Key, entry.Record
	return e, true
}

// sleep waits for d or until ctx ends; it reports whether the full wait passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
