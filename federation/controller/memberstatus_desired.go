package controller

import (
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/writeback"
)

// memberCounts is what one pass found of one member: the global services it exports to, and
// the imports the write-back confirmed in it (written: false when the pass could not write
// to the member, whose count then stays as it was).
type memberCounts struct {
	exported, imported int32
	written            bool
}

// countMembers counts, per member, the services of res it exports and the imports report
// confirms.
func countMembers(res *merge.Result, report *writeback.Report) map[string]memberCounts {
	out := map[string]memberCounts{}
	for i := range res.Services {
		for _, e := range res.Services[i].Global.Exporters {
			c := out[e.Cluster]
			c.exported++
			out[e.Cluster] = c
		}
	}
	for _, imports := range report.Imports {
		for _, mi := range imports {
			c := out[mi.Cluster]
			c.written = true
			if mi.Imported {
				c.imported++
			}
			out[mi.Cluster] = c
		}
	}
	return out
}

// syncedCondition is the Synced condition of a member: st is its connection's state, nil when
// the hub has no synced connection.
func syncedCondition(st *Member) metav1.Condition {
	c := metav1.Condition{Type: string(meshfedv1.MemberClusterConditionSynced), Status: metav1.ConditionFalse}
	switch {
	case st == nil:
		c.Reason, c.Message = string(meshfedv1.MemberClusterReasonSyncing), "the hub has no synced connection to the member; what the store holds for it is kept"
	case st.DuplicateOf != "":
		c.Reason, c.Message = string(meshfedv1.MemberClusterReasonDuplicateCluster), "the cluster is federated as member "+st.DuplicateOf
	case st.Withdrawn:
		c.Reason, c.Message = string(meshfedv1.MemberClusterReasonWithdrawn), "unreachable for longer than the stale grace period; its endpoints were withdrawn"
	case st.Stale:
		c.Reason, c.Message = string(meshfedv1.MemberClusterReasonStale), "unreachable; its endpoints are kept, marked stale, until the grace period ends"
	default:
		c.Status = metav1.ConditionTrue
		c.Reason, c.Message = string(meshfedv1.MemberClusterReasonCachesSynced), "the member's caches are synced and its exports merged"
	}
	return c
}

// desiredMemberStatus is cur with what one pass found of the member: its Synced condition, ID
// and counts, and LastSyncTime set to now while it is synced, when anything else changed or
// the recorded time is older than refresh (so a quiet member is not rewritten every pass).
// The Ready condition is left as it is: the member reconciler and the probe write it.
func desiredMemberStatus(cur meshfedv1.MemberClusterStatus, generation int64, st *Member, counts memberCounts, now time.Time, refresh time.Duration) meshfedv1.MemberClusterStatus {
	next := *cur.DeepCopy()
	next.ObservedGeneration = generation
	synced := syncedCondition(st)
	synced.ObservedGeneration = generation
	meta.SetStatusCondition(&next.Conditions, synced)
	if st != nil && st.ClusterID != "" {
		next.ClusterID = st.ClusterID
	}
	next.ExportedServices = counts.exported
	if counts.written {
		next.ImportedServices = counts.imported
	}
	if synced.Status != metav1.ConditionTrue {
		return next
	}
	changed := !statusEqual(cur, next)
	if changed || cur.LastSyncTime == nil || now.Sub(cur.LastSyncTime.Time) >= refresh {
		t := metav1.NewTime(now.Truncate(time.Second))
		next.LastSyncTime = &t
	}
	return next
}

// statusEqual compares two member statuses, conditions without their transition times.
func statusEqual(a, b meshfedv1.MemberClusterStatus) bool {
	sameCond := func(x, y metav1.Condition) bool {
		return x.Type == y.Type && x.Status == y.Status && x.Reason == y.Reason && x.Message == y.Message && x.ObservedGeneration == y.ObservedGeneration
	}
	return slices.EqualFunc(a.Conditions, b.Conditions, sameCond) && a.ClusterID == b.ClusterID &&
		a.ExportedServices == b.ExportedServices && a.ImportedServices == b.ImportedServices &&
		a.ObservedGeneration == b.ObservedGeneration && a.LastSyncTime.Equal(b.LastSyncTime)
}

// desiredSegmentStatus is a segment's status: the members in it, sorted, and Accepted.
func desiredSegmentStatus(seg *meshfedv1.Segment, members []meshfedv1.MemberCluster) meshfedv1.SegmentStatus {
	next := *seg.Status.DeepCopy()
	next.Clusters = nil
	for i := range members {
		if clusterOf(&members[i]).Segment == seg.Name && members[i].DeletionTimestamp.IsZero() {
			next.Clusters = append(next.Clusters, members[i].Name)
		}
	}
	slices.Sort(next.Clusters)
	next.ClusterCount = int32(len(next.Clusters))
	meta.SetStatusCondition(&next.Conditions, metav1.Condition{Type: meshfedv1.SegmentConditionAccepted, Status: metav1.ConditionTrue,
		Reason: "Accepted", Message: "global services of the segment are named under " + segmentDomain(seg), ObservedGeneration: seg.Generation})
	return next
}
