package controller

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/federation/merge"
)

// MemberImport is how one member's import of one global service was written back.
type MemberImport struct {
	// Cluster is the importing member.
	Cluster string
	// NamespaceMissing: the namespace does not exist in the member; nothing was written (the
	// hub never creates user namespaces in members).
	NamespaceMissing bool
	// WaypointMissing: the namespace has no waypoint Service in the member; the import was
	// written anyway.
	WaypointMissing bool
	// Clashes names the objects ("Service shop/web-global", "ServiceImport shop/web") whose
	// names are taken by objects meshfed does not own; they were left alone.
	Clashes []string
}

// WriteBackReport is what one write-back pass found, per global service, for its
// GlobalService status. Members the hub could not write to (not connected, caches not
// synced, stale or withdrawn) have no entry.
type WriteBackReport struct {
	// Imports are the member imports of each global service.
	Imports map[merge.Key][]MemberImport
	// Failures are the members whose write-back failed in this pass, with the error; their
	// imports may be incomplete.
	Failures map[string]error
}

// fail records that the write-back into member failed.
func (r *WriteBackReport) fail(member string, err error) {
	if r.Failures == nil {
		r.Failures = map[string]error{}
	}
	r.Failures[member] = err
}

// add records one member's import of service k.
func (r *WriteBackReport) add(k merge.Key, mi MemberImport) {
	if r.Imports == nil {
		r.Imports = map[merge.Key][]MemberImport{}
	}
	r.Imports[k] = append(r.Imports[k], mi)
}

// merge adds the imports and failures of o.
func (r *WriteBackReport) merge(o *WriteBackReport) {
	for k, mis := range o.Imports {
		for _, mi := range mis {
			r.add(k, mi)
		}
	}
	for m, err := range o.Failures {
		r.fail(m, err)
	}
}

// For returns the member imports of service k, sorted by cluster.
func (r *WriteBackReport) For(k merge.Key) []MemberImport {
	out := slices.Clone(r.Imports[k])
	slices.SortFunc(out, func(a, b MemberImport) int { return strings.Compare(a.Cluster, b.Cluster) })
	return out
}

// setWriteBackStatus puts a write-back outcome on a desired GlobalService: WaypointMissing on
// the exporting clusters' entries, and the WaypointReady condition — False with NameClash
// when a derived name is taken anywhere (it needs a user's action), else False with
// WaypointMissing when an importing member has no waypoint or no namespace, else True.
func setWriteBackStatus(gs *meshfedv1.GlobalService, imports []MemberImport) {
	var clashes, missing []string
	for _, mi := range imports {
		for _, c := range mi.Clashes {
			clashes = append(clashes, mi.Cluster+": "+c)
		}
		switch {
		case mi.NamespaceMissing:
			missing = append(missing, mi.Cluster+" (no namespace)")
		case mi.WaypointMissing:
			missing = append(missing, mi.Cluster)
		}
		if !mi.WaypointMissing && !mi.NamespaceMissing {
			continue
		}
		for i := range gs.Status.Clusters {
			if gs.Status.Clusters[i].Name == mi.Cluster {
				gs.Status.Clusters[i].WaypointMissing = true
			}
		}
	}
	cond := metav1.Condition{Type: string(meshfedv1.GlobalServiceConditionWaypointReady), Status: metav1.ConditionTrue,
		Reason: string(meshfedv1.GlobalServiceReasonWaypointsReady), Message: "every importing cluster has a waypoint"}
	switch {
	case len(clashes) > 0:
		cond.Status, cond.Reason = metav1.ConditionFalse, string(meshfedv1.GlobalServiceReasonNameClash)
		cond.Message = fmt.Sprintf("names taken by objects meshfed does not own, left alone: %s", strings.Join(clashes, ", "))
	case len(missing) > 0:
		cond.Status, cond.Reason = metav1.ConditionFalse, string(meshfedv1.GlobalServiceReasonWaypointMissing)
		cond.Message = fmt.Sprintf("no waypoint in namespace %s of: %s", gs.Namespace, strings.Join(missing, ", "))
	}
	meta.SetStatusCondition(&gs.Status.Conditions, cond)
}
