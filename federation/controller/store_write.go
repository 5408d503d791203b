package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/store"
)

// StoreFailures are the global services whose records a pass could not write, with why: a
// record too large for the store even split (store.ErrRecordTooLarge), or one breaking a field
// rule (store.ErrInvalidRecord). What the store held for those records stays; every other
// service was written. A service has one error per failed record (its service record, or
// one exporting cluster's endpoints).
type StoreFailures map[merge.Key][]*store.RecordError

// storeFailures files the errors of service and endpoints records under their service.
func storeFailures(errs []*store.RecordError) StoreFailures {
	out := StoreFailures{}
	for _, e := range errs {
		if e.Key.Kind == store.KindService || e.Key.Kind == store.KindEndpoints {
			k := merge.Key{Namespace: e.Key.Namespace, Domain: e.Key.Domain, Name: e.Key.Name}
			out[k] = append(out[k], e)
		}
	}
	return out
}

// apply writes the desired records, each Sync rewriting only the keys whose bytes changed.
// New and changed services and waypoints go before endpoints, and withdrawn services after
// them, so a watcher never sees endpoints of a service it does not know, nor a remote endpoint
// before the waypoint that reaches it; the shared gateways' records follow the waypoints records
// that name them, so that a gateway learns a namespace it serves once the namespace's record
// names it. Carried-over members are part of the merge, so the endpoints Syncs withdraw
// exactly the removed and withdrawn clusters' keys and leave the rest untouched: one Sync over
// every endpoints key when changes cannot say what others changed, else one per cluster whose
// records changed or whose keys others changed (syncEndpoints). previous are the service records the pass read, and snap what it read
// them from: the Syncs under the namespaces plan against it rather than reading the store three
// more times (at 21,000 keys each read took ~0.3 s); gwSnap is the pass's read of the gateway
// records, for their Sync. A record the store does not take fails
// only its own service (or cluster, or namespace's waypoints): it is returned and the pass goes
// on; a new service whose service record failed gets no endpoints records either.
func (f *Federation) apply(ctx context.Context, d Desired, previous []*store.ServiceRecord, snap, gwSnap *store.Baseline, changes storeChanges) ([]*store.RecordError, error) {
	defer recordStoreWrites(f.writer, f.writer.Stats())
	var failed []*store.RecordError
	sync := func(what string, sel store.Selector, recs []store.Record) (store.SyncResult, error) {
		from := snap
		if sel.Prefix == store.GatewaysPrefix {
			from = gwSnap
		}
		res, err := f.writer.SyncFrom(ctx, from, sel, recs)
		var nw *store.NotWrittenError
		if errors.As(err, &nw) {
			failed = append(failed, nw.Records...)
			return res, nil
		}
		if err != nil {
			return res, fmt.Errorf("failed to write %s records: %w", what, err)
		}
		return res, nil
	}
	if _, err := sync("cluster", store.SelectClusters(), d.Clusters); err != nil {
		return nil, err
	}
	services := store.Selector{Prefix: store.NamespacesPrefix, Kind: store.KindService}
	withdrawn := withdrawnServices(d.Services, previous)
	if _, err := sync("service", services, append(slices.Clip(d.Services), withdrawn...)); err != nil {
		return nil, err
	}
	if _, err := sync("waypoint", store.Selector{Prefix: store.NamespacesPrefix, Kind: store.KindWaypoints}, d.Waypoints); err != nil {
		return nil, err
	}
	if _, err := sync("gateway", store.Selector{Prefix: store.GatewaysPrefix, Kind: store.KindGateway}, d.Gateways); err != nil {
		return nil, err
	}
	unknown := unknownServices(failed, previous)
	eps := d.Endpoints
	if len(unknown) > 0 {
		eps = make(map[string][]store.Record, len(d.Endpoints))
		for c, recs := range d.Endpoints {
			eps[c] = slices.DeleteFunc(slices.Clone(recs), func(r store.Record) bool {
				k := r.Key()
				return unknown[store.ServiceKey(k.Namespace, k.Domain, k.Name)]
			})
		}
	}
	err := f.syncEndpoints(eps, changes, func(sel store.Selector, recs []store.Record) (bool, error) {
		n := len(failed)
		r, err := sync("endpoint", sel, recs)
		f.log.Debug("endpoint records synced", "cluster", sel.Cluster, "put", r.Put, "deleted", r.Deleted, "unchanged", r.Unchanged, "failed", r.Failed)
		return len(failed) > n, err
	})
	if err != nil {
		return nil, err
	}
	if len(withdrawn) > 0 {
		if _, err := sync("withdrawn service", services, d.Services); err != nil {
			return nil, err
		}
	}
	return failed, nil
}

// unknownServices are the keys of the service records that failed and that the store did not
// hold before the pass: readers do not know those services, so their endpoints are not written
// either (and, never written, none is deleted). A service the store knew keeps its old record
// and gets its endpoints.
func unknownServices(failed []*store.RecordError, previous []*store.ServiceRecord) map[store.Key]bool {
	known := make(map[store.Key]bool, len(previous))
	for _, s := range previous {
		known[s.Key()] = true
	}
	out := map[store.Key]bool{}
	for _, e := range failed {
		if e.Key.Kind == store.KindService && !known[e.Key] {
			out[e.Key] = true
		}
	}
	return out
}

// reportNotWritten logs the records the store did not take: a Warning when a record newly
// fails, Debug while it keeps failing, Info when it is written again. Only the loop's
// goroutine calls it.
func (f *Federation) reportNotWritten(failed []*store.RecordError) {
	now := make(map[store.Key]bool, len(failed))
	for _, e := range failed {
		now[e.Key] = true
		if f.notWritten[e.Key] {
			f.log.Debug("store record still not written", "key", e.Key.String(), "error", e.Err)
			continue
		}
		f.log.Warn("store record not written; the store keeps what it held for it", "key", e.Key.String(), "error", e.Err)
	}
	for k := range f.notWritten {
		if !now[k] {
			f.log.Info("store record written again", "key", k.String())
		}
	}
	f.notWritten = now
}

// withdrawnServices are the previous service records no longer desired; the first services
// Sync keeps them (unchanged) until their endpoints are gone.
func withdrawnServices(desired []store.Record, previous []*store.ServiceRecord) []store.Record {
	want := make(map[string]bool, len(desired))
	for _, r := range desired {
		want[r.Key().String()] = true
	}
	var out []store.Record
	for _, s := range previous {
		if !want[s.Key().String()] {
			out = append(out, s)
		}
	}
	return out
}
