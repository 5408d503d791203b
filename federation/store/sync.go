package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Limits of Sync.
const (
	// maxOpsPerTxn keeps every Sync transaction well under etcd's default --max-txn-ops (128);
	// each op carries one compare, plus the leader fence.
	maxOpsPerTxn = 64
	// syncAttempts bounds the passes of one Sync when keys change under it.
	syncAttempts = 3
)

// Selector names the set of keys one Sync owns: keys under Prefix, of Kind, and of Cluster when
// it is set. Sync deletes the selected keys that are not desired and never touches the others.
// A selector of KindEndpoints also owns the chunks of the endpoints records it selects.
type Selector struct {
	Prefix  string
	Kind    Kind
	Cluster string
}

// SelectClusters selects every cluster record.
func SelectClusters() Selector { return Selector{Prefix: ClustersPrefix, Kind: KindCluster} }

// SelectServices selects the service records of namespace ns, or of every namespace if ns is "".
func SelectServices(ns string) Selector {
	if ns == "" {
		return Selector{Prefix: NamespacesPrefix, Kind: KindService}
	}
	return Selector{Prefix: ServicesPrefix(ns), Kind: KindService}
}

// SelectClusterEndpoints selects every endpoints record that cluster wrote, in every namespace.
func SelectClusterEndpoints(cluster string) Selector {
	return Selector{Prefix: NamespacesPrefix, Kind: KindEndpoints, Cluster: cluster}
}

// SelectServiceEndpoints selects every cluster's endpoints of one global service.
func SelectServiceEndpoints(ns, domain, name string) Selector {
	return Selector{Prefix: ServiceEndpointsPrefix(ns, domain, name), Kind: KindEndpoints}
}

// SelectClusterWaypoints selects the waypoints records of cluster in every namespace.
func SelectClusterWaypoints(cluster string) Selector {
	return Selector{Prefix: NamespacesPrefix, Kind: KindWaypoints, Cluster: cluster}
}

// Matches reports whether the selector owns key k.
func (s Selector) Matches(k Key) bool {
	return s.matchesFields(k) && strings.HasPrefix(k.String(), s.Prefix)
}

// matchesKey is Matches for k parsed from key, without building key again.
func (s Selector) matchesKey(key string, k Key) bool {
	return s.matchesFields(k) && strings.HasPrefix(key, s.Prefix)
}

// matchesFields is Matches but for the prefix.
func (s Selector) matchesFields(k Key) bool {
	return (s.Kind == 0 || k.Kind == s.Kind || (s.Kind == KindEndpoints && k.Kind == KindEndpointsChunk)) &&
		(s.Cluster == "" || k.Cluster == s.Cluster)
}

// SyncResult counts what one Sync did, in keys (an endpoints record stored in parts is several
// keys), and the desired records it could not write.
type SyncResult struct {
	Put       int
	Deleted   int
	Unchanged int
	Failed    int
}

// change is one planned write: a put of val, or a delete when val is nil. modRev is the key's
// mod revision when planned (0 if absent), checked again at write time. owner is the key of the
// record the key stores (the endpoints key of a chunk); part marks a chunk.
type change struct {
	key    string
	val    []byte
	modRev int64
	owner  string
	part   bool
	// frozen, when val is nil, is a put of the frozen record's encoding (size bytes), made when
	// the change's transaction is (batcher.encode).
	frozen Record
	size   int
}

// put reports whether c puts a value rather than deleting the key.
func (c *change) put() bool { return c.val != nil || c.frozen != nil }

// phase orders a plan's changes so that readers never see half a record: chunks are put
// before the heads that name them and deleted after no head names them any more. Records
// whose chunks are not written by the plan (records stored whole, and heads naming chunks
// already stored) go first, so that a small service's change is not queued behind the
// transactions of a large record's new chunks. chunked are the owners with chunk puts.
func (c *change) phase(chunked map[string]bool) int {
	switch {
	case c.part && c.put():
		return 1
	case c.part:
		return 3
	case chunked[c.owner]:
		return 2
	}
	return 0
}

// Sync makes the selected keys equal desired: it puts the records whose stored value differs,
// deletes selected keys not desired, and leaves identical keys and unselected keys alone.
// Writes go in transactions of at most maxOpsPerTxn keys and maxTxnBytes, each fenced by
// leadership and by the mod revision each key had when read; if a key changed meanwhile, Sync
// reads and plans again. Sync is not atomic across transactions, but every pass converges on
// desired, and an endpoints record stored in parts changes for readers only when its head
// does, after every chunk it names is written.
//
// A desired record that cannot be written (it breaks a field rule, or is too large even split)
// fails alone: Sync writes everything else, leaves what the store holds for that record as it
// was, and returns a *NotWrittenError listing it. A desired record outside the selector, or
// desired twice, fails the whole Sync with ErrInvalidRecord before anything is written.
func (w *Writer) Sync(ctx context.Context, sel Selector, desired []Record) (SyncResult, error) {
	return w.SyncFrom(ctx, nil, sel, desired)
}

// SyncFrom is Sync whose first plan is made against snap (from View.Refresh of a prefix that
// contains sel.Prefix) instead of a fresh read of the store, and which records its writes in
// snap. A pass that read the store once can so run several Syncs without reading it again. A
// nil snap, or one that a conflict made stale, reads the store as Sync does.
func (w *Writer) SyncFrom(ctx context.Context, snap *Baseline, sel Selector, desired []Record) (SyncResult, error) {
	w.splits.begin()
	want, failed, err := encodeSelected(sel, desired, w.splits.storedForm)
	if err != nil {
		return SyncResult{}, err
	}
	w.splits.retain(sel)
	var total SyncResult
	for range syncAttempts {
		res, err := w.syncOnce(ctx, snap, sel, want, failed)
		total.Put += res.Put
		total.Deleted += res.Deleted
		total.Unchanged = res.Unchanged
		total.Failed = len(failed)
		if !errors.Is(err, errConflict) {
			if err == nil {
				err = failed.err()
			}
			return total, err
		}
	}
	return total, fmt.Errorf("failed to sync prefix %s after %d attempts: %w", sel.Prefix, syncAttempts, errConflict)
}

// encodeSelected encodes the desired records into the key-values that store them (with
// encode, storedForm or a cache of it), refusing records outside the selector and duplicates;
// records that do not encode are failures.
func encodeSelected(sel Selector, desired []Record, encode func(Record) ([]storedValue, error)) (map[string]storedValue, failures, error) {
	want := make(map[string]storedValue, len(desired))
	failed := failures{}
	for _, r := range desired {
		k, key := keyOf(r)
		if !sel.matchesKey(key, k) {
			return nil, nil, fmt.Errorf("failed to sync key %s: outside selector %+v: %w", k, sel, ErrInvalidRecord)
		}
		// A record's values include one under its own key (the head of one stored in parts).
		if _, twice := want[key]; twice || failed[key] != nil {
			return nil, nil, fmt.Errorf("failed to sync key %s: desired twice: %w", k, ErrInvalidRecord)
		}
		vals, err := encode(r)
		if err != nil {
			failed.add(k, err)
			continue
		}
		for _, v := range vals {
			want[v.key] = v
		}
	}
	return want, failed, nil
}

// syncOnce reads the selected keys (from snap while it can answer), plans the changes and
// writes them in batches. A conflict makes snap stale.
func (w *Writer) syncOnce(ctx context.Context, snap *Baseline, sel Selector, want map[string]storedValue, failed failures) (SyncResult, error) {
	f, _, err := w.currentFence()
	if err != nil {
		return SyncResult{}, fmt.Errorf("failed to sync prefix %s: %w", sel.Prefix, err)
	}
	kvs, ok := snap.kvsFor(sel)
	if !ok {
		raw, _, err := w.client.listRaw(ctx, sel.Prefix)
		if err != nil {
			return SyncResult{}, err
		}
		kvs = storedOf(raw)
	}
	changes, unchanged := plan(sel, kvs, want, failed)
	b := batcher{w: w, f: f, snap: snap, failed: failed, res: SyncResult{Unchanged: unchanged}}
	if err := b.write(ctx, changes); err != nil {
		if errors.Is(err, errConflict) {
			snap.invalidate()
		}
		return b.res, err
	}
	w.stats.unchanged(unchanged)
	return b.res, nil
}

// plan compares the stored keys with the desired ones and returns the changes in the order
// they are written: by phase (see change.phase), then by key. The keys of failed records are
// left as they are.
func plan(sel Selector, kvs []stored, want map[string]storedValue, failed failures) ([]change, int) {
	var changes []change
	unchanged, stored := 0, 0
	for _, kv := range kvs {
		key := kv.key
		k, err := kv.parse()
		if err != nil || !sel.matchesKey(key, k) {
			continue
		}
		owner := key
		if k.Kind == KindEndpointsChunk {
			owner = k.Endpoints().String()
		}
		if failed[owner] != nil {
			continue
		}
		v, ok := want[key]
		if ok {
			stored++
		}
		switch {
		case !ok:
			changes = append(changes, change{key: key, modRev: kv.modRev, owner: owner, part: k.Kind == KindEndpointsChunk})
		case kv.holdsValue(v):
			unchanged++
		default:
			changes = append(changes, change{key: key, val: v.val, frozen: v.frozen, size: v.size, modRev: kv.modRev, owner: v.owner, part: v.part})
		}
	}
	if stored < len(want) {
		// Some desired keys are not stored yet (the usual pass has none: skip the set of keys).
		seen := make(map[string]bool, len(kvs))
		for _, kv := range kvs {
			seen[kv.key] = true
		}
		for key, v := range want {
			if !seen[key] && failed[v.owner] == nil {
				changes = append(changes, change{key: key, val: v.val, frozen: v.frozen, size: v.size, owner: v.owner, part: v.part})
			}
		}
	}
	chunked := map[string]bool{}
	for i := range changes {
		if c := &changes[i]; c.part && c.put() {
			chunked[c.owner] = true
		}
	}
	slices.SortFunc(changes, func(a, b change) int {
		return cmp.Or(cmp.Compare(a.phase(chunked), b.phase(chunked)), strings.Compare(a.key, b.key))
	})
	return changes, unchanged
}

// putParts writes an endpoints record stored in parts by syncing exactly its keys: the head and
// the chunks under it.
func (w *Writer) putParts(ctx context.Context, r Record) (bool, error) {
	k := r.Key()
	res, err := w.Sync(ctx, Selector{Prefix: k.String(), Kind: KindEndpoints, Cluster: k.Cluster}, []Record{r})
	if err != nil {
		var nw *NotWrittenError
		if errors.As(err, &nw) {
			return false, nw.Records[0]
		}
		return false, err
	}
	return res.Put+res.Deleted > 0, nil
}
