package writeback

import (
	"cmp"
	"slices"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/model"
)

// Wants lists, per member cluster, the global services it imports, in Key order.
// Global services of different domains can share a namespace and name, while a member has one
// ServiceImport and one derived Service per namespace and name: the member's own domain wins,
// else the smallest domain.
func Wants(res *merge.Result, clusters []model.Cluster, segments []model.Segment) map[string][]*model.GlobalService {
	own := clusterDomains(clusters, segments)
	type slot struct{ cluster, namespace, name string }
	chosen := map[slot]*model.GlobalService{}
	for i := range res.Services {
		g := &res.Services[i].Global
		for _, imp := range g.Imports {
			s := slot{imp.Cluster, g.Namespace, g.Name}
			if prev, ok := chosen[s]; !ok || (g.Domain == own[imp.Cluster] && prev.Domain != own[imp.Cluster]) {
				chosen[s] = g
			}
		}
	}
	out := map[string][]*model.GlobalService{}
	for s, g := range chosen {
		out[s.cluster] = append(out[s.cluster], g)
	}
	for _, gs := range out {
		slices.SortFunc(gs, func(a, b *model.GlobalService) int { return merge.KeyOf(a).Compare(merge.KeyOf(b)) })
	}
	return out
}

// clusterDomains maps each cluster to its segment's domain the way merge does: the segment's
// own (the smallest when listed twice), else the default.
func clusterDomains(clusters []model.Cluster, segments []model.Segment) map[string]string {
	domains := map[string]string{}
	for _, s := range segments {
		d := cmp.Or(s.Domain, wellknown.DefaultSegmentDomain)
		if old, ok := domains[s.Name]; !ok || d < old {
			domains[s.Name] = d
		}
	}
	out := make(map[string]string, len(clusters))
	for _, c := range clusters {
		out[c.Name] = cmp.Or(domains[c.Segment], wellknown.DefaultSegmentDomain)
	}
	return out
}

// Zones lists the DNS zones a member's meshfed-dns answers: every cluster's segment domain and
// the MCS zone clusterset.local, sorted.
func Zones(clusters []model.Cluster, segments []model.Segment) []string {
	out := []string{wellknown.ClusterSetDomain}
	for _, d := range clusterDomains(clusters, segments) {
		out = append(out, d)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
