package merge

import (
	"cmp"
	"slices"

	"github.com/meshfed/meshfed/federation/model"
)

// addressable reports whether a client cluster may address the endpoints that an exporting
// cluster exports with the given scope (DESIGN §3.2). The scope is the exporter's own: a
// cluster never takes on another cluster's scope.
func addressable(scope model.Scope, exporter, client *model.Cluster) bool {
	switch scope {
	case model.ScopeGlobal, model.ScopeGlobalOnly:
		return true
	case model.ScopeSegment:
		return exporter.Segment == client.Segment
	case model.ScopeCluster:
		return exporter.Name == client.Name
	default:
		return false
	}
}

// buildImports lists, for every member cluster in name order, the exporters (sorted) whose
// endpoints it may address; clusters that may address none do not import the service. A
// first pass counts, so that every From list shares one exactly sized backing array.
func buildImports(sorted []source, idx *index) []model.Import {
	importers, total := 0, 0
	for _, name := range idx.names {
		n := countAddressable(sorted, &idx.members[name].cluster)
		importers += min(n, 1)
		total += n
	}
	if importers == 0 {
		return nil
	}
	imports := make([]model.Import, 0, importers)
	backing := make([]string, 0, total)
	for _, name := range idx.names {
		client := &idx.members[name].cluster
		start := len(backing)
		for _, s := range sorted {
			if addressable(s.export.Scope, &s.member.cluster, client) {
				backing = append(backing, s.cluster())
			}
		}
		if len(backing) > start {
			imports = append(imports, model.Import{Cluster: name, From: backing[start:len(backing):len(backing)]})
		}
	}
	return imports
}

// countAddressable counts the exporters whose endpoints the client may address.
func countAddressable(sorted []source, client *model.Cluster) int {
	n := 0
	for _, s := range sorted {
		if addressable(s.export.Scope, &s.member.cluster, client) {
			n++
		}
	}
	return n
}

// importOf returns the From list of the client's import of svc (shared, not copied), or nil.
func importOf(svc *model.GlobalService, client string) []string {
	i, ok := slices.BinarySearchFunc(svc.Imports, client, func(im model.Import, c string) int {
		return cmp.Compare(im.Cluster, c)
	})
	if !ok {
		return nil
	}
	return svc.Imports[i].From
}

// Visible returns the exporting clusters whose endpoints of svc the client cluster may
// address, sorted; nil when the client does not import svc. It reads svc.Imports as Merge
// built it (sorted by cluster) and returns a copy.
func Visible(svc *model.GlobalService, client string) []string {
	return slices.Clone(importOf(svc, client))
}

// Addressable picks, from per-cluster endpoints as the store holds them (keyed by exporting
// cluster), the groups the client cluster may address, in cluster order; nil when the client
// does not import svc. Clusters absent from byCluster are skipped. The endpoint slices are
// shared with byCluster, not copied.
func Addressable(svc *model.GlobalService, byCluster map[string][]model.Endpoint, client string) []ClusterEndpoints {
	from := importOf(svc, client)
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
