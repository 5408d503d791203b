package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// A View is a client's running picture of one prefix, kept between reads so that reading the
// prefix again costs what changed, not what is stored. It holds every key's mod revision and
// value digest, and the decoded records of every kind but endpoints records and their chunks
// (clusters, services, waypoints, gateways: a few per service, not one per exporting cluster).
//
// The first Refresh reads the whole prefix (as below) and starts an etcd watch on it from the
// revision after that read. A later Refresh learns the store's current revision (one
// linearizable read of one key), waits until the watch has received every change through it
// (asking etcd for progress, since a quiet prefix sends no event), and applies the changes
// received since the Refresh before: what it costs is what changed. The watch keeps an
// endpoints record's digest, not its value.
//
// When the watch is in any trouble (canceled, compacted past, closed, out of order, holding
// more than viewWatchMaxEvents changes or viewWatchMaxBytes of values, not caught up within
// viewWatchWait, or ctx ending), Refresh drops it, reads the prefix's keys and mod revisions
// only (no values), then the values of the keys whose mod revision changed since the last
// Refresh, and watches again from that read. On that path a key the view's last Baseline wrote
// (SyncFrom records its writes there) is known by the digest of what was written, so the
// hub's own writes are not read back, except for records the view decodes. The hub at 20
// clusters × 1,000 services × 10 endpoints stores 60 MB under 21,020 keys: a full read and
// decode took 0.8 s a pass; the keys alone are 1.6 MB.
//
// What a View does not hold are the endpoints records: a Listing from Refresh has none (List
// reads them). A value that changes without its mod revision changing does not exist in etcd,
// so nothing stored is missed; what a View trusts is that the Baseline's writes were committed
// at the revisions SyncFrom recorded, which its transactions guarantee.
type View struct {
	c      *Client
	prefix string

	mu   sync.Mutex
	keys map[string]viewEntry
	// decoded are the keys whose entries hold a record or a decode error (a few per service,
	// against one per exporting cluster for the others), so that a Refresh lists them
	// without going through every key.
	decoded map[string]bool
	base    *Baseline
	// watch follows the prefix since the last full read; nil until the first Refresh, after
	// Close, and when dropped in trouble until the Refresh that reads the keys again.
	watch *viewWatch
	// fetched is the number of values the last Refresh took from the store (Fetched).
	fetched int
	// fullReads counts the Refreshes that read the prefix's keys rather than apply the
	// watch's changes: the first, and one after each trouble. Read by tests.
	fullReads int
	// maxEvents bounds the changes the watch holds (viewWatchMaxEvents; tests lower it).
	maxEvents int
	// foreign are the keys the last Refresh found changed by others (Foreign); foreignAll
	// says it read the keys instead, so that any key may have.
	foreign    []Key
	foreignAll bool
}

// viewEntry is what a View holds of one key: what a Baseline holds of it (its mod revision,
// its value's digest and its parsed key), and its decoded record (or why it did not decode)
// when its kind is one the view decodes.
type viewEntry struct {
	stored
	rec  Record
	derr *DecodeError
}

// viewGetsPerTxn bounds the values one transaction of Refresh reads: etcd refuses a
// transaction of more than --max-txn-ops operations, 128 by default.
const viewGetsPerTxn = 128

// viewRangeReadMin is the number of changed values from which Refresh reads the whole prefix
// again (one paged range) rather than key by key (a transaction per viewGetsPerTxn keys).
const viewRangeReadMin = 2048

// NewView returns an empty view of prefix (under Root); its first Refresh reads everything.
// Close stops the watch its Refreshes start.
func (c *Client) NewView(prefix string) *View {
	return &View{c: c, prefix: prefix, maxEvents: viewWatchMaxEvents}
}

// Refresh reads the prefix as it is now and returns its records but the endpoints records,
// at one revision, and a Baseline of every key under it for SyncFrom. It reflects every write
// committed before it was called. The records are shared with the view's later listings and
// must not be modified. One Refresh runs at a time.
func (v *View) Refresh(ctx context.Context) (Listing, *Baseline, error) {
	if !strings.HasPrefix(v.prefix, Root) {
		return Listing{}, nil, fmt.Errorf("failed to list prefix %q: not under %s: %w", v.prefix, Root, ErrMalformedKey)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.watch != nil {
		rev, err := v.applyWatched(ctx)
		if err == nil {
			return v.picture(rev, true)
		}
		// Whatever went wrong, the watch may have missed a change: read the keys instead.
		v.c.log.Info("store view watch dropped, reading the prefix's keys", "prefix", v.prefix, "error", err)
		v.watch.stop()
		v.watch = nil
	}
	rev, err := v.readChanged(ctx)
	if err != nil {
		return Listing{}, nil, err
	}
	v.fullReads++
	v.foreign, v.foreignAll = nil, true
	v.watch = v.c.watchView(v.prefix, rev, v.maxEvents)
	return v.picture(rev, false)
}

// Close stops the view's watch. The view stays usable: its next Refresh reads the prefix's keys
// and watches again. Close of a nil view does nothing.
func (v *View) Close() {
	if v == nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.watch != nil {
		v.watch.stop()
		v.watch = nil
	}
}

// Fetched is the number of values the last Refresh took from the store: on the watch's path
// the puts it applied (a key put twice since the Refresh before counts twice), otherwise the
// values it read.
func (v *View) Fetched() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.fetched
}

// Foreign returns the keys that the last Refresh found changed since the Refresh before by
// writes other than those its Baseline recorded (SyncFrom's), in the order they changed; all
// is true when that Refresh read the keys instead of applying a watch's changes, so that any
// key may have changed. Keys that do not parse are left out (a Sync leaves them alone). A
// writer that keeps what it wrote can so skip writing again what nobody changed.
func (v *View) Foreign() (keys []Key, all bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.foreign, v.foreignAll
}

// othersIn returns the keys of events not made by the writes the view's last Baseline
// recorded: a put at another mod revision than the Baseline holds for its key, or a delete of
// a key the Baseline still holds. (A change the Baseline recorded has the mod revision it was
// committed at; every other event is newer than the Baseline's picture.)
func (v *View) othersIn(events []viewEvent) []Key {
	var written map[string]stored
	if v.base != nil {
		v.base.mu.Lock()
		defer v.base.mu.Unlock()
		written = v.base.kvs
	}
	var out []Key
	for i := range events {
		ev := &events[i]
		s, ok := written[ev.key]
		own := (ev.deleted && !ok) || (!ev.deleted && ok && s.modRev == ev.modRev)
		if own {
			continue
		}
		k, err := ev.parsed, ev.parseErr
		if ev.deleted { // a delete's event carries only the key
			k, err = ParseKey(ev.key)
		}
		if err == nil {
			out = append(out, k)
		}
	}
	return out
}

// applyWatched applies the changes the watch received through the store's current revision,
// and returns the revision the view now holds. On an error the view is unchanged.
func (v *View) applyWatched(ctx context.Context) (int64, error) {
	target, err := v.c.Revision(ctx)
	if err != nil {
		return 0, err
	}
	events, rev, err := v.watch.through(ctx, target)
	if err != nil {
		return 0, err
	}
	puts := 0
	v.foreign, v.foreignAll = v.othersIn(events), false
	base := v.base
	if base != nil {
		base.mu.Lock()
		defer base.mu.Unlock()
	}
	for i := range events {
		ev := &events[i]
		if ev.deleted {
			delete(v.keys, ev.key)
			delete(v.decoded, ev.key)
			if base != nil {
				base.remove(ev.key)
			}
			continue
		}
		e := ev.entry()
		v.keys[ev.key] = e
		if e.rec != nil || e.derr != nil {
			v.decoded[ev.key] = true
		} else {
			delete(v.decoded, ev.key)
		}
		if base != nil {
			base.put(ev.key, e.stored)
		}
		puts++
	}
	v.fetched = puts
	return rev, nil
}

// readChanged reads the prefix's keys and mod revisions, then the values of those that changed
// since the view's last Refresh (all of them when the view is new), and makes that the view's
// picture; it returns the revision read.
func (v *View) readChanged(ctx context.Context) (int64, error) {
	listed, err := v.c.readKeys(ctx, v.prefix)
	if err != nil {
		return 0, err
	}
	next, missing := v.carry(listed.kvs)
	values, err := v.c.valuesAt(ctx, v.prefix, missing, listed.rev)
	if err != nil {
		if ctx.Err() != nil {
			return 0, err
		}
		// The revision may have been compacted between the reads: read everything now.
		kvs, rev, err := v.c.listRaw(ctx, v.prefix)
		if err != nil {
			return 0, err
		}
		listed = keyRead{kvs: kvs, rev: rev}
		next, values = make(map[string]viewEntry, len(kvs)), kvs
	}
	for _, kv := range values {
		if !isLeaderKey(kv.Key) {
			next[string(kv.Key)] = entryOf(kv)
		}
	}
	v.keys, v.fetched = next, len(values)
	v.decoded = make(map[string]bool)
	for key, e := range next {
		if e.rec != nil || e.derr != nil {
			v.decoded[key] = true
		}
	}
	return listed.rev, nil
}

// picture returns the view's records in key order, at revision rev, and a Baseline of its keys,
// which becomes the view's last Baseline. When the view followed its watch (applyWatched kept
// the last Baseline up to date with every change, the hub's own writes recorded by SyncFrom
// and the others'), that Baseline is handed out again while it is current, so that a pass does
// not copy every key's entry, and the index of keys by kind a plan builds (Baseline.byKind)
// lasts; otherwise a new one.
func (v *View) picture(rev int64, followed bool) (Listing, *Baseline, error) {
	base := v.base
	if !followed || base == nil || !base.current() {
		base = &Baseline{prefix: v.prefix, kvs: make(map[string]stored, len(v.keys))}
		for key, e := range v.keys {
			base.kvs[key] = e.stored
		}
	}
	var decoded []*viewEntry
	for key := range v.decoded {
		e := v.keys[key]
		decoded = append(decoded, &e)
	}
	slices.SortFunc(decoded, func(a, b *viewEntry) int { return strings.Compare(a.key, b.key) })
	l := Listing{Revision: rev}
	for _, e := range decoded {
		if e.derr != nil {
			l.Errors = append(l.Errors, e.derr)
		} else {
			l.Entries = append(l.Entries, Entry{Key: e.rec.Key(), Record: e.rec, ModRevision: e.modRev})
		}
	}
	v.base = base
	return l, base, nil
}

// carry returns what the view still knows of the listed keys (those at the mod revision it
// holds, and those the last Baseline wrote at that revision, when the view need not decode
// them) and the listed keys whose values must be read.
func (v *View) carry(listed []*storedKV) (map[string]viewEntry, []*storedKV) {
	var written map[string]stored
	if v.base != nil {
		v.base.mu.Lock()
		defer v.base.mu.Unlock()
		written = v.base.kvs
	}
	next := make(map[string]viewEntry, len(listed))
	var missing []*storedKV
	for _, kv := range listed {
		key := string(kv.Key)
		if isLeaderKey(kv.Key) {
			continue
		}
		if e, ok := v.keys[key]; ok && e.modRev == kv.ModRevision {
			next[key] = e
			continue
		}
		if s, ok := written[key]; ok && s.modRev == kv.ModRevision && s.digested {
			if k, err := s.parse(); !decodedInView(k, err) {
				s.parsed, s.parseErr, s.isParsed = k, err, true
				next[key] = viewEntry{stored: s}
				continue
			}
		}
		missing = append(missing, kv)
	}
	return next, missing
}

// decodedInView reports whether a View decodes the value under a key that parsed to k (or
// failed to, with err): every key but those of endpoints records and chunks (a key that does
// not parse is decoded, to report it).
func decodedInView(k Key, err error) bool {
	return err != nil || (k.Kind != KindEndpoints && k.Kind != KindEndpointsChunk)
}

// entryOf is what a View holds of a key-value read with its value.
func entryOf(kv *storedKV) viewEntry {
	ev := viewEventOf(kv)
	return ev.entry()
}

// valuesAt reads the values of keys (listed without them) at revision rev: a transaction per
// viewGetsPerTxn keys, or, from viewRangeReadMin keys on, the whole prefix at rev.
func (c *Client) valuesAt(ctx context.Context, prefix string, keys []*storedKV, rev int64) ([]*storedKV, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	if len(keys) >= viewRangeReadMin {
		all, _, err := c.listRawAt(ctx, prefix, rev)
		if err != nil {
			return nil, err
		}
		want := make(map[string]bool, len(keys))
		for _, kv := range keys {
			want[string(kv.Key)] = true
		}
		out := make([]*storedKV, 0, len(keys))
		for _, kv := range all {
			if want[string(kv.Key)] {
				out = append(out, kv)
			}
		}
		return out, nil
	}
	out := make([]*storedKV, 0, len(keys))
	for lo := 0; lo < len(keys); lo += viewGetsPerTxn {
		var ops []clientv3.Op
		for _, kv := range keys[lo:min(lo+viewGetsPerTxn, len(keys))] {
			ops = append(ops, clientv3.OpGet(string(kv.Key), clientv3.WithRev(rev)))
		}
		resp, err := c.etcd.Txn(ctx).Then(ops...).Commit()
		if err != nil {
			return nil, fmt.Errorf("failed to read %d values under %s: %w", len(ops), prefix, err)
		}
		for _, r := range resp.Responses {
			out = append(out, r.GetResponseRange().Kvs...)
		}
	}
	return out, nil
}

// keyRead is what readKeys read: key-values in key order, without their values, at one
// revision.
type keyRead struct {
	kvs []*storedKV
	rev int64
}

// readKeys reads the keys and mod revisions under prefix as listRaw reads the values.
func (c *Client) readKeys(ctx context.Context, prefix string) (keyRead, error) {
	kvs, rev, err := c.listRawAt(ctx, prefix, 0, clientv3.WithKeysOnly())
	return keyRead{kvs: kvs, rev: rev}, err
}
