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
}

// writeSlices brings the MCS EndpointSlices of g in the member in line, after its
// ServiceImport si was written: for every source cluster the member may address, its
// endpoints in slices of at most MaxSliceEndpoints, owned by si. Slices it does not list are
// left for prune.
func (w *memberWriter) writeSlices(ctx context.Context, st *memberState, g *model.GlobalService, si *mcsv1beta1.ServiceImport) error {
	if !w.slices.Mode.wants(g) || w.slices.Endpoints == nil {
		return nil
	}
	cur := st.objs.MCSEndpointSlices[types.NamespacedName{Namespace: g.Namespace, Name: g.Name}]
	desired := desiredEndpointSlices(g, w.slices.Endpoints(g, w.conn.Name()), w.slices.ClusterIDs, cur, importOwner(si, st.api.legacy))
	byName := make(map[string]*discoveryv1.EndpointSlice, len(cur))
	for _, s := range cur {
		byName[s.Name] = s
	}
	c := w.conn.Cluster().GetClient()
	for _, d := range desired {
		st.keep[objectRef("EndpointSlice", d)] = true
		have := byName[d.Name]
		switch {
		case have == nil:
			if err := c.Create(ctx, d); err != nil {
				return ignoreLagged(w.lagged(err, "create", "EndpointSlice", d))
			}
			w.log.Info("MCS endpointslice created", "namespace", d.Namespace, "name", d.Name, "sourceCluster", d.Labels[mcsv1beta1.LabelSourceCluster], "endpoints", len(d.Endpoints))
		case sliceEqual(have, d):
		default:
			next := have.DeepCopy()
			if next.Labels == nil {
				next.Labels = map[string]string{}
			}
			maps.Copy(next.Labels, d.Labels)
			next.OwnerReferences, next.Ports, next.Endpoints = d.OwnerReferences, d.Ports, d.Endpoints
			if err := c.Update(ctx, next); err != nil {
				return ignoreLagged(w.lagged(err, "update", "EndpointSlice", next))
			}
			w.log.Debug("MCS endpointslice updated", "namespace", d.Namespace, "name", d.Name, "endpoints", len(d.Endpoints))
		}
	}
	return nil
}

// keepSlices keeps g's current MCS EndpointSlices through this pass, when its import could not
// be brought in line and the next pass decides.
func keepSlices(st *memberState, g *model.GlobalService) {
	for _, s := range st.objs.MCSEndpointSlices[types.NamespacedName{Namespace: g.Namespace, Name: g.Name}] {
		st.keep[objectRef("EndpointSlice", s)] = true
	}
}

// pruneSlices deletes the MCS EndpointSlices the hub wrote that st.keep does not name.
func (w *memberWriter) pruneSlices(ctx context.Context, st *memberState) error {
	c := w.conn.Cluster().GetClient()
	for _, list := range st.objs.MCSEndpointSlices {
		for _, s := range list {
			if !writtenBack(s) || st.keep[objectRef("EndpointSlice", s)] {
				continue
			}
			uid := s.UID
			if err := w.remove("EndpointSlice", s, c.Delete(ctx, s.DeepCopy(), client.Preconditions{UID: &uid})); ignoreLagged(err) != nil {
				return err
			}
		}
	}
	return nil
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
