package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
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
	return strings.HasPrefix(k.String(), s.Prefix) &&
		(s.Kind == 0 || k.Kind == s.Kind) &&
		(s.Cluster == "" || k.Cluster == s.Cluster)
}

// SyncResult counts what one Sync did.
type SyncResult struct {
	Put       int
	Deleted   int
	Unchanged int
}

// change is one planned write: a put of val, or a delete when val is nil. modRev is the key's
// mod revision when planned (0 if absent), checked again at write time.
type change struct {
	key    string
	val    []byte
	modRev int64
}

// Sync makes the selected keys equal desired: it puts the records whose stored value differs,
// deletes selected keys not desired, and leaves identical keys and unselected keys alone.
// Writes go in transactions of at most maxOpsPerTxn keys, each fenced by leadership and by the
// mod revision each key had when read; if a key changed meanwhile, Sync reads and plans again.
// Sync is not atomic across transactions, but every pass converges on desired.
func (w *Writer) Sync(ctx context.Context, sel Selector, desired []Record) (SyncResult, error) {
	return w.SyncFrom(ctx, nil, sel, desired)
}

// SyncFrom is Sync whose first plan is made against snap (from ListSnapshot of a prefix that
// contains sel.Prefix) instead of a fresh read of the store, and which records its writes in
// snap. A pass that read the store once can so run several Syncs without reading it again. A
// nil snap, or one that a conflict made stale, reads the store as Sync does.
func (w *Writer) SyncFrom(ctx context.Context, snap *Snapshot, sel Selector, desired []Record) (SyncResult, error) {
	want, err := encodeSelected(sel, desired)
	if err != nil {
		return SyncResult{}, err
	}
	var total SyncResult
	for range syncAttempts {
		res, err := w.syncOnce(ctx, snap, sel, want)
		total.Put += res.Put
		total.Deleted += res.Deleted
		total.Unchanged = res.Unchanged
		if !errors.Is(err, errConflict) {
			return total, err
		}
	}
	return total, fmt.Errorf("failed to sync prefix %s after %d attempts: %w", sel.Prefix, syncAttempts, errConflict)
}

// encodeSelected encodes the desired records, refusing records outside the selector and
// duplicates.
func encodeSelected(sel Selector, desired []Record) (map[string][]byte, error) {
	want := make(map[string][]byte, len(desired))
	for _, r := range desired {
		key, val, err := Encode(r)
		if err != nil {
			return nil, err
		}
		if !sel.Matches(r.Key()) {
			return nil, fmt.Errorf("failed to sync key %s: outside selector %+v: %w", key, sel, ErrInvalidRecord)
		}
		if _, dup := want[key]; dup {
			return nil, fmt.Errorf("failed to sync key %s: desired twice: %w", key, ErrInvalidRecord)
		}
		want[key] = val
	}
	return want, nil
}

// syncOnce reads the selected keys (from snap while it can answer), plans the changes and
// writes them in batches. A conflict makes snap stale.
func (w *Writer) syncOnce(ctx context.Context, snap *Snapshot, sel Selector, want map[string][]byte) (SyncResult, error) {
	f, _, err := w.currentFence()
	if err != nil {
		return SyncResult{}, fmt.Errorf("failed to sync prefix %s: %w", sel.Prefix, err)
	}
	kvs, ok := snap.kvsFor(sel.Prefix)
	if !ok {
		raw, _, err := w.client.listRaw(ctx, sel.Prefix)
		if err != nil {
			return SyncResult{}, err
		}
		kvs = storedOf(raw)
	}
	changes, unchanged := plan(sel, kvs, want)
	res := SyncResult{Unchanged: unchanged}
	for batch := range slices.Chunk(changes, maxOpsPerTxn) {
		rev, err := w.commit(ctx, f, batch)
		if err != nil {
			if errors.Is(err, errConflict) {
				snap.invalidate()
			}
			return res, err
		}
		snap.applied(batch, rev)
		for _, c := range batch {
			if c.val == nil {
				res.Deleted++
			} else {
				res.Put++
			}
		}
	}
	w.stats.unchanged(unchanged)
	return res, nil
}

// plan compares the stored keys with the desired ones and returns the changes, sorted by key.
func plan(sel Selector, kvs []stored, want map[string][]byte) ([]change, int) {
	var changes []change
	unchanged := 0
	seen := make(map[string]bool, len(kvs))
	for _, kv := range kvs {
		key := kv.key
		k, err := ParseKey(key)
		if err != nil || !sel.Matches(k) {
			continue
		}
		seen[key] = true
		val, ok := want[key]
		switch {
		case !ok:
			changes = append(changes, change{key: key, modRev: kv.modRev})
		case kv.holds(val):
			unchanged++
		default:
			changes = append(changes, change{key: key, val: val, modRev: kv.modRev})
		}
	}
	for key, val := range want {
		if !seen[key] {
			changes = append(changes, change{key: key, val: val})
		}
	}
	slices.SortFunc(changes, func(a, b change) int { return strings.Compare(a.key, b.key) })
	return changes, unchanged
}

// commit writes one batch in a transaction guarded by the leader fence and each key's mod
// revision, and returns the revision it committed at. It tells a lost leadership
// (ErrNotLeader) from a key changed meanwhile (errConflict).
func (w *Writer) commit(ctx context.Context, f fence, batch []change) (int64, error) {
	cmps := []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(f.key), "=", f.rev)}
	ops := make([]clientv3.Op, 0, len(batch))
	for _, c := range batch {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(c.key), "=", c.modRev))
		if c.val == nil {
			ops = append(ops, clientv3.OpDelete(c.key))
		} else {
			ops = append(ops, clientv3.OpPut(c.key, string(c.val)))
		}
	}
	resp, err := w.client.etcd.Txn(ctx).If(cmps...).Then(ops...).Else(clientv3.OpGet(f.key)).Commit()
	if err != nil {
		return 0, fmt.Errorf("failed to commit batch from key %s: %w", batch[0].key, err)
	}
	w.stats.txn()
	if !resp.Succeeded {
		leader := resp.Responses[0].GetResponseRange().Kvs
		if len(leader) == 0 || leader[0].CreateRevision != f.rev {
			return 0, fmt.Errorf("failed to commit batch from key %s: %w", batch[0].key, ErrNotLeader)
		}
		return 0, errConflict
	}
	for _, c := range batch {
		if c.val == nil {
			w.stats.deleted(c.key)
		} else {
			w.stats.put(c.key, c.val)
		}
	}
	return resp.Header.Revision, nil
}
