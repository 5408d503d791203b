package merge

import (
	"cmp"
	"slices"

	"github.com/meshfed/meshfed/federation/model"
)

// Reach is who may address whom for one global service: its imports as Merge built them, one
// per importing cluster, sorted by that cluster. It answers both directions — From: the
// exporting clusters whose endpoints a client cluster may address (what the hub writes back
// and what a waypoint balances over); To: the client clusters that may address an exporter's
// endpoints (what a waypoint's inbound side lets through). Every reader of imports asks it,
// so the two directions cannot disagree.
type Reach []model.Import

// ReachOf returns the reach of a service from its imports. Imports not sorted by cluster
// (read back from a store record written by another version, say) are sorted in a copy.
func ReachOf(imports []model.Import) Reach {
	byCluster := func(a, b model.Import) int { return cmp.Compare(a.Cluster, b.Cluster) }
	if !slices.IsSortedFunc(imports, byCluster) {
		imports = slices.SortedFunc(slices.Values(imports), byCluster)
	}
	return Reach(imports)
}

// From returns the exporting clusters whose endpoints client may address, sorted; nil when
// client does not import the service. The slice is shared with the imports: read only.
func (r Reach) From(client string) []string {
	i, ok := slices.BinarySearchFunc(r, client, func(im model.Import, c string) int {
		return cmp.Compare(im.Cluster, c)
	})
	if !ok {
		return nil
	}
	return r[i].From
}

// To returns the client clusters that may address the endpoints exporter exports, sorted; nil
// when none may.
func (r Reach) To(exporter string) []string {
	var out []string
	for _, im := range r {
		if slices.Contains(im.From, exporter) {
			out = append(out, im.Cluster)
		}
	}
	return out
}

// Endpoints picks, from per-cluster endpoints as the store holds them (keyed by exporting
// cluster), the groups client may address, in cluster order; nil when client does not import
// the service. Clusters absent from byCluster are skipped. The endpoint slices are shared
// with byCluster, not copied.
func (r Reach) Endpoints(byCluster map[string][]model.Endpoint, client string) []ClusterEndpoints {
	from := r.From(client)
	if from == nil {
		return nil
	}
	out := make([]ClusterEndpoints, 0, len(from))
	for _, c := range from {
		if eps, ok := byCluster[c]; ok {
			out = append(out, ClusterEndpoints{Cluster: c, Endpoints: eps})
		}
	}
	return out
}
