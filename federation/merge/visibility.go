package merge

import "github.com/meshfed/meshfed/federation/model"

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
	importers := 0
	for _, name := range idx.names {
		if countAddressable(sorted, &idx.members[name].cluster) > 0 {
			importers++
		}
	}
	if importers == 0 {
		return nil
	}
	imports := make([]model.Import, 0, importers)
	var backing []string
	for _, name := range idx.names {
		client := &idx.members[name].cluster
		start := len(backing)
		for _, s := range sorted {
			if addressable(s.export.Scope, &s.member.cluster, client) {
				backing = append(backing, s.cluster())
			}
		}
		if len(backing) == start {
			continue
		}
		from := backing[start:len(backing):len(backing)]
		if shared := model.SameFromNearby(len(imports), from, func(j int) []string { return imports[j].From }); shared != nil {
			from, backing = shared, backing[:start]
		}
		imports = append(imports, model.Import{Cluster: name, From: from})
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
