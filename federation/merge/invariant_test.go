package merge

import (
	"fmt"
	"slices"
	"strings"

	"github.com/meshfed/meshfed/federation/model"
)

// checkPorts returns a description of the first duplicate name or (protocol, number) pair in
// merged ports, or "".
func checkPorts(ports []model.Port) string {
	names := map[string]bool{}
	pairs := map[string]bool{}
	for _, p := range ports {
		pair := fmt.Sprintf("%d/%s", p.Port, p.Protocol)
		if names[p.Name] || pairs[pair] {
			return fmt.Sprintf("duplicate merged port %s in %v", portString(p), ports)
		}
		names[p.Name], pairs[pair] = true, true
	}
	return ""
}

// checkInvariants returns every violated invariant of Merge(in) = r, independently of how
// Merge computes it; empty when all hold.
func checkInvariants(in Input, r Result) []string {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	members := map[string]model.Cluster{}
	for _, c := range in.Clusters {
		// A duplicated name keeps the smallest cluster, as documented on Merge.
		if old, ok := members[c.Name]; c.Name != "" && (!ok || compareClusters(c, old) < 0) {
			members[c.Name] = c
		}
	}
	if !slices.IsSortedFunc(r.Services, func(a, b Service) int { return a.Key().Compare(b.Key()) }) {
		fail("services not sorted")
	}
	for i := 1; i < len(r.Services); i++ {
		if r.Services[i].Key() == r.Services[i-1].Key() {
			fail("service %v twice", r.Services[i].Key())
		}
	}
	if !slices.IsSortedFunc(r.Problems, compareProblems) {
		fail("problems not sorted")
	}
	for i := range r.Services {
		errs = append(errs, checkService(&r.Services[i], members)...)
	}
	errs = append(errs, checkAccounted(in, r)...)
	return errs
}

// checkService checks one service: sorted unique exporters, endpoint groups matching them,
// imports of members only, From lists that follow each exporter's own scope.
func checkService(s *Service, members map[string]model.Cluster) []string {
	var errs []string
	fail := func(format string, args ...any) {
		errs = append(errs, s.Global.Hostname+": "+fmt.Sprintf(format, args...))
	}
	g := &s.Global
	if g.Hostname != s.Key().Hostname() {
		fail("hostname %q does not match key", g.Hostname)
	}
	if msg := checkPorts(g.Ports); msg != "" {
		fail("%s", msg)
	}
	scopes := map[string]model.Scope{}
	var exporters []string
	for _, e := range g.Exporters {
		scopes[e.Cluster] = e.Scope
		exporters = append(exporters, e.Cluster)
		if e.Scope.Width() > g.Scope.Width() {
			fail("exporter %s scope %q wider than the service's %q", e.Cluster, e.Scope, g.Scope)
		}
		if e.Ready > e.Endpoints {
			fail("exporter %s has more ready than endpoints", e.Cluster)
		}
	}
	if !slices.IsSorted(exporters) || len(slices.Compact(slices.Clone(exporters))) != len(exporters) {
		fail("exporters not sorted and unique: %v", exporters)
	}
	var groups []string
	for _, ce := range s.Endpoints {
		groups = append(groups, ce.Cluster)
	}
	if !slices.Equal(groups, exporters) {
		fail("endpoint groups %v differ from exporters %v", groups, exporters)
	}
	errs = append(errs, checkImports(g, scopes, members)...)
	return errs
}

// checkImports recomputes visibility from the scope table for every member cluster.
func checkImports(g *model.GlobalService, scopes map[string]model.Scope, members map[string]model.Cluster) []string {
	var errs []string
	got := importsMap(g.Imports)
	if !slices.IsSortedFunc(g.Imports, func(a, b model.Import) int { return strings.Compare(a.Cluster, b.Cluster) }) {
		errs = append(errs, g.Hostname+": imports not sorted")
	}
	for c := range got {
		if _, ok := members[c]; !ok {
			errs = append(errs, fmt.Sprintf("%s: import into non-member %s", g.Hostname, c))
		}
	}
	for name, client := range members {
		var want []string
		for exp, sc := range scopes {
			seg := members[exp].Segment
			if sc.IsGlobal() || (sc == model.ScopeSegment && seg == client.Segment) || exp == name {
				want = append(want, exp)
			}
		}
		slices.Sort(want)
		if !slices.Equal(got[name], want) {
			errs = append(errs, fmt.Sprintf("%s: %s imports from %v, want %v", g.Hostname, name, got[name], want))
		}
	}
	return errs
}

// checkAccounted checks that every export is an exporter of the service of its key or is
// reported once as a problem that drops it.
func checkAccounted(in Input, r Result) []string {
	exporters, dropped := 0, 0
	for _, s := range r.Services {
		exporters += len(s.Global.Exporters)
	}
	for _, p := range r.Problems {
		if p.Reason.DropsExport() {
			dropped++
		}
	}
	if exporters+dropped != len(in.Exports) {
		return []string{fmt.Sprintf("%d exporters + %d dropped != %d exports", exporters, dropped, len(in.Exports))}
	}
	var errs []string
	for _, e := range in.Exports {
		if !exportMerged(e, r) && !exportReported(e, r) {
			errs = append(errs, fmt.Sprintf("export %s/%s from %q neither merged nor reported", e.Namespace, e.Name, e.Cluster))
		}
	}
	return errs
}

// exportMerged reports whether a service of the export's namespace/name lists its cluster.
func exportMerged(e model.ClusterExport, r Result) bool {
	for _, s := range r.Services {
		if s.Global.Namespace == e.Namespace && s.Global.Name == e.Name &&
			slices.ContainsFunc(s.Global.Exporters, func(x model.Exporter) bool { return x.Cluster == e.Cluster }) {
			return true
		}
	}
	return false
}

// exportReported reports whether a dropping problem names the export.
func exportReported(e model.ClusterExport, r Result) bool {
	return slices.ContainsFunc(r.Problems, func(p InputProblem) bool {
		return p.Reason.DropsExport() && p.Cluster == e.Cluster && p.Namespace == e.Namespace && p.Name == e.Name
	})
}
