package writeback

import (
	"context"
	"maps"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
	mcsv1beta1 "sigs.k8s.io/mcs-api/pkg/apis/v1beta1"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/model"
)

// Slices is what the MCS EndpointSlices of a member are made from.
type Slices struct {
	// Mode says which imports get them; "" means SlicesNone.
	Mode SliceMode
	// Endpoints returns, per source cluster, the endpoints of g that a member may address (see
	// merge.Service.EndpointsFor); nil means none.
	Endpoints func(g *model.GlobalService, member string) []merge.ClusterEndpoints
	// ClusterIDs maps each member's name to its cluster ID (the kube-system namespace's UID,
	// MemberCluster status.clusterID): the slices' source-cluster label.
	ClusterIDs map[string]string
	// Memo, when set, skips services whose endpoints and slices did not change since the last
	// pass (see SliceMemo).
	Memo *SliceMemo
}

// writeSlices brings the MCS EndpointSlices of g in the member in line, after its
// ServiceImport si was written: for every source cluster the member may address, its
// endpoints in slices of at most MaxSliceEndpoints, owned by si. Slices it does not list are
// left for prune.
func (w *memberWriter) writeSlices(ctx context.Context, st *memberState, g *model.GlobalService, si *mcsv1beta1.ServiceImport) error {
	if !w.slices.Mode.wants(g) || w.slices.Endpoints == nil {
		return nil
	}
	key := types.NamespacedName{Namespace: g.Namespace, Name: g.Name}
	w.sliced[key] = true
	cur := st.objs.MCSEndpointSlices[key]
	sources := w.slices.Endpoints(g, w.conn.Name())
	in := newSliceInputs(g, sources, w.slices.ClusterIDs, si.UID)
	if w.slices.Memo.unchanged(w.conn.Name(), key, in, cur) {
		keepSlices(st, g)
		return nil
	}
	desired := desiredEndpointSlices(g, sources, w.slices.ClusterIDs, cur, importOwner(si, st.api.legacy))
	byName := make(map[string]*discoveryv1.EndpointSlice, len(cur))
	for _, s := range cur {
		byName[s.Name] = s
	}
	versions := make(map[string]string, len(desired))
	for _, d := range desired {
		st.keep[objectRef("EndpointSlice", d)] = true
		rv, err := w.applySlice(ctx, byName[d.Name], d)
		if err != nil {
			return ignoreLagged(err)
		}
		versions[d.Name] = rv
	}
	if len(versions) == len(cur) { // the memo holds only when no slice is left for prune
		w.slices.Memo.record(w.conn.Name(), key, in, versions)
	}
	return nil
}

// applySlice creates desired, or updates have to it when they differ, and returns the
// slice's resource version.
func (w *memberWriter) applySlice(ctx context.Context, have, desired *discoveryv1.EndpointSlice) (string, error) {
	c := w.conn.Cluster().GetClient()
	switch {
	case have == nil:
		if err := c.Create(ctx, desired); err != nil {
			return "", w.lagged(err, "create", "EndpointSlice", desired)
		}
		w.log.Info("endpointslice created", "namespace", desired.Namespace, "name", desired.Name,
			"sourceCluster", desired.Labels[mcsv1beta1.LabelSourceCluster], "endpoints", len(desired.Endpoints))
		return desired.ResourceVersion, nil
	case sliceEqual(have, desired):
		return have.ResourceVersion, nil
	}
	next := have.DeepCopy()
	if next.Labels == nil {
		next.Labels = map[string]string{}
	}
	maps.Copy(next.Labels, desired.Labels)
	next.OwnerReferences, next.Ports, next.Endpoints = desired.OwnerReferences, desired.Ports, desired.Endpoints
	if err := c.Update(ctx, next); err != nil {
		return "", w.lagged(err, "update", "EndpointSlice", next)
	}
	w.log.Debug("endpointslice updated", "namespace", next.Namespace, "name", next.Name, "endpoints", len(next.Endpoints))
	return next.ResourceVersion, nil
}

// keepSlices keeps g's current MCS EndpointSlices through this pass, when its import could not
// be brought in line and the next pass decides.
func keepSlices(st *memberState, g *model.GlobalService) {
	for _, s := range st.objs.MCSEndpointSlices[types.NamespacedName{Namespace: g.Namespace, Name: g.Name}] {
		st.keep[objectRef("EndpointSlice", s)] = true
	}
}

// pruneSlices deletes the EndpointSlices the hub wrote (MCS slices, and the slices of derived
// Services in namespaces a shared gateway serves) that st.keep does not name.
func (w *memberWriter) pruneSlices(ctx context.Context, st *memberState) error {
	for _, list := range st.objs.MCSEndpointSlices {
		for _, s := range list {
			if err := w.pruneSlice(ctx, st, s); err != nil {
				return err
			}
		}
	}
	for _, list := range st.objs.EndpointSlices {
		for i := range list {
			if err := w.pruneSlice(ctx, st, &list[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// pruneSlice deletes s when the hub wrote it and st.keep does not name it. Kubernetes'
// EndpointSlice controller copies a Service's labels onto the slices it makes, so the slices of
// a derived Service that selects waypoint pods carry the write-back labels too: only the
// manager label tells the hub's slices from the controller's.
func (w *memberWriter) pruneSlice(ctx context.Context, st *memberState, s *discoveryv1.EndpointSlice) error {
	if !writtenBack(s) || !hubSlice(s) || st.keep[objectRef("EndpointSlice", s)] {
		return nil
	}
	uid := s.UID
	err := w.remove("EndpointSlice", s, w.conn.Cluster().GetClient().Delete(ctx, s.DeepCopy(), client.Preconditions{UID: &uid}))
	return ignoreLagged(err)
}

// hubSlice reports whether the hub manages s (its endpointslice.kubernetes.io/managed-by).
func hubSlice(s *discoveryv1.EndpointSlice) bool {
	return s.Labels[discoveryv1.LabelManagedBy] == wellknown.EndpointSliceManagedByValue
}

// importOwner is the owner reference of a slice to its ServiceImport, in the MCS version the
// member serves.
func importOwner(si *mcsv1beta1.ServiceImport, legacy bool) metav1.OwnerReference {
	gv := mcsv1beta1.GroupVersion
	if legacy {
		gv = mcsv1alpha1.GroupVersion
	}
	return metav1.OwnerReference{APIVersion: gv.String(), Kind: "ServiceImport", Name: si.Name, UID: si.UID}
}
