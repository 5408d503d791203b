package controller

import (
	"maps"
	"slices"

	"github.com/meshfed/meshfed/federation/store"
)

// storeChanges are what a pass's read found changed in the store by writes other than the
// hub's own since the pass before (store.View.Foreign): the keys, or all when the read could
// not tell (it read the keys: the first pass, a new view, a watch in trouble).
type storeChanges struct {
	keys []store.Key
	all  bool
}

// changesOf is what v's last Refresh found changed by others.
func changesOf(v *store.View) storeChanges {
	keys, all := v.Foreign()
	return storeChanges{keys: keys, all: all}
}

// endpointsWritten is, for each cluster, the endpoints records the hub last wrote for it in
// full (its Sync put or kept every one), in the order it wrote them. A pass whose records of a
// cluster are the same records (the loop's memo hands over the same frozen records while
// nothing changed, see recordMemo) and whose read found none of the cluster's endpoints keys
// changed by others need not plan that cluster's keys again: the store holds them. Only the
// loop's goroutine uses it.
type endpointsWritten map[string][]store.Record

// syncEndpoints writes the endpoints records, by cluster. When changes cannot say what others
// changed (or nothing was written yet) it syncs every endpoints key in one Sync, which also
// deletes the keys of clusters the hub no longer knows; otherwise one Sync per cluster whose
// records or keys changed, and none for the others. sync is the pass's Sync of a selector; it
// reports whether any record of it failed. The written records are kept in f.endpoints.
func (f *Federation) syncEndpoints(byCluster map[string][]store.Record, changes storeChanges, sync func(store.Selector, []store.Record) (failed bool, err error)) error {
	if changes.all || f.endpoints == nil {
		f.endpoints = nil
		var all []store.Record
		for _, c := range slices.Sorted(maps.Keys(byCluster)) {
			all = append(all, byCluster[c]...)
		}
		failed, err := sync(store.Selector{Prefix: store.NamespacesPrefix, Kind: store.KindEndpoints}, all)
		if err == nil && !failed {
			f.endpoints = endpointsWritten(byCluster)
		}
		return err
	}
	dirty := map[string]bool{}
	for _, k := range changes.keys {
		if k.Kind == store.KindEndpoints || k.Kind == store.KindEndpointsChunk {
			dirty[k.Cluster] = true
		}
	}
	clusters := slices.Concat(slices.Collect(maps.Keys(byCluster)), slices.Collect(maps.Keys(f.endpoints)), slices.Collect(maps.Keys(dirty)))
	slices.Sort(clusters)
	for _, c := range slices.Compact(clusters) {
		recs := byCluster[c]
		if !dirty[c] && sameRecords(f.endpoints[c], recs) {
			continue // the same records, which nobody else changed since the hub wrote them
		}
		failed, err := sync(store.SelectClusterEndpoints(c), recs)
		if err != nil {
			f.endpoints = nil
			return err
		}
		if failed || len(recs) == 0 {
			delete(f.endpoints, c)
		} else {
			f.endpoints[c] = recs
		}
	}
	return nil
}

// sameRecords reports whether a and b hold the same records: at once when they are the same
// list (the loop hands over a cluster's last list while none of its records changed).
func sameRecords(a, b []store.Record) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 || &a[0] == &b[0] {
		return true
	}
	return slices.Equal(a, b)
}
