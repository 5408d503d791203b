package controller

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/writeback"
)

// writeStatus writes what a pass found into the hub's MemberCluster and Segment objects, each
// only when it changed: Synced, the cluster ID and counts, LastSyncTime; the members of each
// segment. It tries every object and returns the joined errors.
func (f *Federation) writeStatus(ctx context.Context, res *merge.Result, wb *writeback.Report) error {
	var mcs meshfedv1.MemberClusterList
	if err := f.hub.List(ctx, &mcs); err != nil {
		return fmt.Errorf("failed to list memberclusters: %w", err)
	}
	now := f.now()
	conns := map[string]*Member{}
	for _, m := range f.members.List(now) {
		conns[m.Cluster.Name] = &m
	}
	counts := countMembers(res, wb)
	var errs []error
	for i := range mcs.Items {
		mc := &mcs.Items[i]
		if !mc.DeletionTimestamp.IsZero() {
			continue
		}
		next := desiredMemberStatus(mc.Status, mc.Generation, conns[mc.Name], counts[mc.Name], now, f.members.opts.ProbeInterval)
		if statusEqual(mc.Status, next) {
			continue
		}
		patch := client.MergeFrom(mc.DeepCopy())
		mc.Status = next
		if err := f.hub.Status().Patch(ctx, mc, patch); client.IgnoreNotFound(err) != nil {
			errs = append(errs, fmt.Errorf("failed to update status of membercluster %s: %w", mc.Name, err))
		}
	}
	var segs meshfedv1.SegmentList
	if err := f.hub.List(ctx, &segs); err != nil {
		return errors.Join(append(errs, fmt.Errorf("failed to list segments: %w", err))...)
	}
	for i := range segs.Items {
		seg := &segs.Items[i]
		next := desiredSegmentStatus(seg, mcs.Items)
		if equality.Semantic.DeepEqual(seg.Status, next) {
			continue
		}
		patch := client.MergeFrom(seg.DeepCopy())
		seg.Status = next
		if err := f.hub.Status().Patch(ctx, seg, patch); client.IgnoreNotFound(err) != nil {
			errs = append(errs, fmt.Errorf("failed to update status of segment %s: %w", seg.Name, err))
		}
	}
	return errors.Join(errs...)
}

// segmentDomain is the domain a segment's global services are named in.
func segmentDomain(seg *meshfedv1.Segment) string {
	return cmp.Or(seg.Spec.Domain, wellknown.DefaultSegmentDomain)
}
