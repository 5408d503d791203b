package writeback

import (
	"slices"
	"strings"

	"github.com/meshfed/meshfed/federation/merge"
)

// Import is how one member's import of one global service was written back.
type Import struct {
	// Cluster is the importing member.
	Cluster string
	// NamespaceMissing: the namespace does not exist in the member, or is being deleted;
	// nothing was written (the hub never creates user namespaces in members).
	NamespaceMissing bool
	// WaypointMissing: the namespace has no waypoint Service in the member; the import was
	// written anyway.
	WaypointMissing bool
	// WaypointNotReady: the namespace's waypoint Service has no ready endpoint in the member.
	WaypointNotReady bool
	// TakeoverRequested: the service asks to take over its cluster-local name; TakeoverActive:
	// the member's CoreDNS forwards that name to meshfed-dns, which answers it (else
	// TakeoverPending says why not).
	TakeoverRequested bool
	TakeoverActive    bool
	TakeoverPending   string
	// Imported: the member has the import as desired — its ServiceImport, or its derived
	// Service where the member serves no ServiceImport API.
	Imported bool
	// Clashes names the objects ("Service shop/web-global", "ServiceImport shop/web") whose
	// names are taken by objects meshfed does not own; they were left alone.
	Clashes []string
}

// Report is what one write-back pass found, per global service, for its
// GlobalService status. Members the hub could not write to (not connected, caches not
// synced, stale or withdrawn) have no entry.
type Report struct {
	// Imports are the member imports of each global service.
	Imports map[merge.Key][]Import
	// Failures are the members whose write-back failed in this pass, with the error; their
	// imports may be incomplete.
	Failures map[string]error
	// Recheck asks for another write-back soon although nothing failed: a state the hub
	// waits for in a member (a takeover not confirmed yet) can change without an event.
	Recheck bool
}

// Fail records that the write-back into member failed.
func (r *Report) Fail(member string, err error) {
	if r.Failures == nil {
		r.Failures = map[string]error{}
	}
	r.Failures[member] = err
}

// add records one member's import of service k.
func (r *Report) add(k merge.Key, mi Import) {
	if r.Imports == nil {
		r.Imports = map[merge.Key][]Import{}
	}
	r.Imports[k] = append(r.Imports[k], mi)
}

// Merge adds the imports and failures of o.
func (r *Report) Merge(o *Report) {
	for k, mis := range o.Imports {
		for _, mi := range mis {
			r.add(k, mi)
		}
	}
	for m, err := range o.Failures {
		r.Fail(m, err)
	}
	r.Recheck = r.Recheck || o.Recheck
}

// For returns the member imports of service k, sorted by cluster.
func (r *Report) For(k merge.Key) []Import {
	out := slices.Clone(r.Imports[k])
	slices.SortFunc(out, func(a, b Import) int { return strings.Compare(a.Cluster, b.Cluster) })
	return out
}
