package merge

import (
	"slices"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
)

// allMembers is every fixture cluster, as Import.From lists for a global export would name
// its exporters to each of them.
var allMembers = []string{"e1", "e2", "e3", "n1", "w1", "w2"}

// TestScopeTable covers each row of the DESIGN §3.2 scope table, with one and with two
// exporting clusters of the east segment: hostname, who imports, and whose endpoints each
// importer may address.
func TestScopeTable(t *testing.T) {
	everyone := func(from ...string) map[string][]string {
		m := map[string][]string{}
		for _, c := range allMembers {
			m[c] = from
		}
		return m
	}
	tests := []struct {
		name         string
		scope        model.Scope
		exporters    []string
		takeover     bool
		wantImports  map[string][]string
		wantTakeover bool
	}{
		{name: "cluster, one exporter", scope: model.ScopeCluster, exporters: []string{"e1"},
			wantImports: map[string][]string{"e1": {"e1"}}},
		{name: "cluster, two exporters: each only its own", scope: model.ScopeCluster, exporters: []string{"e1", "e2"},
			wantImports: map[string][]string{"e1": {"e1"}, "e2": {"e2"}}},
		{name: "segment, one exporter", scope: model.ScopeSegment, exporters: []string{"e1"},
			wantImports: map[string][]string{"e1": {"e1"}, "e2": {"e1"}, "e3": {"e1"}}},
		{name: "segment, two exporters", scope: model.ScopeSegment, exporters: []string{"e1", "e2"},
			wantImports: map[string][]string{"e1": {"e1", "e2"}, "e2": {"e1", "e2"}, "e3": {"e1", "e2"}}},
		{name: "global, one exporter", scope: model.ScopeGlobal, exporters: []string{"e1"},
			wantImports: everyone("e1")},
		{name: "global, two exporters", scope: model.ScopeGlobal, exporters: []string{"e1", "e2"},
			wantImports: everyone("e1", "e2")},
		{name: "global-only, one exporter, takeover", scope: model.ScopeGlobalOnly, exporters: []string{"e1"}, takeover: true,
			wantImports: everyone("e1"), wantTakeover: true},
		{name: "global-only, takeover set to false", scope: model.ScopeGlobalOnly, exporters: []string{"e1", "e2"},
			wantImports: everyone("e1", "e2")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Clusters: fixtureClusters(), Segments: fixtureSegments()}
			for i, c := range tt.exporters {
				e := export(c, tt.scope, i)
				e.Takeover = tt.takeover
				in.Exports = append(in.Exports, e)
			}
			svc := onlyService(t, in).Global
			if svc.Hostname != "svc.ns.east.example" || svc.Domain != "east.example" {
				t.Errorf("hostname %q domain %q, want svc.ns.east.example in east.example", svc.Hostname, svc.Domain)
			}
			if svc.Scope != tt.scope || svc.Takeover != tt.wantTakeover {
				t.Errorf("scope %q takeover %v, want %q %v", svc.Scope, svc.Takeover, tt.scope, tt.wantTakeover)
			}
			if !equalImports(svc.Imports, tt.wantImports) {
				t.Errorf("imports %v, want %v", importsMap(svc.Imports), tt.wantImports)
			}
		})
	}
}

// TestScopeDomains: the same namespace/name is one service per domain; a segment without a
// Segment object, or with an empty domain, uses the default domain; segments sharing a domain
// share the service while segment scope stays inside each segment.
func TestScopeDomains(t *testing.T) {
	segments := append(fixtureSegments(), model.Segment{Name: "east2", Domain: "east.example"}, model.Segment{Name: "south"})
	clusters := append(fixtureClusters(), model.Cluster{Name: "x1", Segment: "east2"}, model.Cluster{Name: "s1", Segment: "south"})
	in := Input{Clusters: clusters, Segments: segments, Exports: []model.ClusterExport{
		export("e1", model.ScopeSegment, 0),
		export("x1", model.ScopeSegment, 1),
		export("w1", model.ScopeGlobal, 2),
		export("n1", model.ScopeSegment, 3),
		export("s1", model.ScopeCluster, 4),
	}}
	r := Merge(in)
	want := []struct {
		hostname  string
		exporters []string
		imports   map[string][]string
	}{
		{"svc.ns.east.example", []string{"e1", "x1"}, map[string][]string{
			"e1": {"e1"}, "e2": {"e1"}, "e3": {"e1"}, "x1": {"x1"}}},
		{"svc.ns.mesh.internal", []string{"n1", "s1"}, map[string][]string{"n1": {"n1"}, "s1": {"s1"}}},
		{"svc.ns.west.example", []string{"w1"}, map[string][]string{
			"e1": {"w1"}, "e2": {"w1"}, "e3": {"w1"}, "n1": {"w1"}, "s1": {"w1"}, "w1": {"w1"}, "w2": {"w1"}, "x1": {"w1"}}},
	}
	if len(r.Services) != len(want) {
		t.Fatalf("got %d services, want %d: %s", len(r.Services), len(want), mustJSON(t, r))
	}
	for i, w := range want {
		svc := r.Services[i].Global
		var exporters []string
		for _, e := range svc.Exporters {
			exporters = append(exporters, e.Cluster)
		}
		if svc.Hostname != w.hostname || !slices.Equal(exporters, w.exporters) || !equalImports(svc.Imports, w.imports) {
			t.Errorf("service %d: %s exporters %v imports %v; want %s %v %v", i, svc.Hostname, exporters, importsMap(svc.Imports), w.hostname, w.exporters, w.imports)
		}
	}
}

// TestMixedScopes: each exporter keeps its own scope; an importer addresses exactly the
// exporters whose scope reaches it.
func TestMixedScopes(t *testing.T) {
	in := Input{Clusters: fixtureClusters(), Segments: fixtureSegments(), Exports: []model.ClusterExport{
		export("e1", model.ScopeCluster, 0),
		export("e2", model.ScopeSegment, 1),
		export("e3", model.ScopeGlobal, 2),
	}}
	svc := onlyService(t, in).Global
	want := map[string][]string{
		"e1": {"e1", "e2", "e3"},
		"e2": {"e2", "e3"},
		"e3": {"e2", "e3"},
		"n1": {"e3"}, "w1": {"e3"}, "w2": {"e3"},
	}
	if !equalImports(svc.Imports, want) {
		t.Errorf("imports %v, want %v", importsMap(svc.Imports), want)
	}
	if svc.Scope != model.ScopeGlobal {
		t.Errorf("display scope %q, want the widest, global", svc.Scope)
	}
	wantExporters := []model.Exporter{
		{Cluster: "e1", Scope: model.ScopeCluster, Endpoints: 1, Ready: 1},
		{Cluster: "e2", Scope: model.ScopeSegment, Endpoints: 1, Ready: 1},
		{Cluster: "e3", Scope: model.ScopeGlobal, Endpoints: 1, Ready: 1},
	}
	if !slices.Equal(svc.Exporters, wantExporters) {
		t.Errorf("exporters %v, want %v", svc.Exporters, wantExporters)
	}
}

// TestTakeoverAny: takeover is true as soon as one export asks for it.
func TestTakeoverAny(t *testing.T) {
	tests := []struct {
		name     string
		exports  []model.ClusterExport
		takeover bool
	}{
		{"none asks", []model.ClusterExport{export("e1", model.ScopeGlobal, 0), export("e2", model.ScopeGlobal, 1)}, false},
		{"newest asks", []model.ClusterExport{export("e1", model.ScopeGlobal, 0), export("e2", model.ScopeGlobalOnly, 1, withTakeover())}, true},
		{"oldest asks", []model.ClusterExport{export("e1", model.ScopeSegment, 0, withTakeover()), export("e2", model.ScopeGlobal, 1)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := onlyService(t, Input{Clusters: fixtureClusters(), Segments: fixtureSegments(), Exports: tt.exports}).Global
			if svc.Takeover != tt.takeover {
				t.Errorf("takeover %v, want %v", svc.Takeover, tt.takeover)
			}
		})
	}
}

// TestImportsShareFromLists: importers that import a service from the same clusters share one
// From list; the others have their own.
func TestImportsShareFromLists(t *testing.T) {
	clusters := []model.Cluster{{Name: "a", Segment: "s1"}, {Name: "b", Segment: "s1"}, {Name: "c", Segment: "s2"}, {Name: "d", Segment: "s1"}}
	exp := func(c string, sc model.Scope) model.ClusterExport {
		return model.ClusterExport{Cluster: c, Namespace: "shop", Name: "cart", Scope: sc, Created: at(0)}
	}
	in := Input{
		Clusters: clusters, Segments: []model.Segment{{Name: "s1", Domain: "d"}, {Name: "s2", Domain: "d"}},
		Exports: []model.ClusterExport{exp("a", model.ScopeGlobal), exp("b", model.ScopeSegment), exp("c", model.ScopeGlobal)},
	}
	im := onlyService(t, in).Global.Imports
	from := map[string][]string{}
	for _, i := range im {
		from[i.Cluster] = i.From
	}
	if want := []string{"a", "b", "c"}; !slices.Equal(from["a"], want) || !slices.Equal(from["d"], want) || !slices.Equal(from["c"], []string{"a", "c"}) {
		t.Fatalf("imports %+v", im)
	}
	if &from["a"][0] != &from["b"][0] || &from["a"][0] != &from["d"][0] {
		t.Errorf("a, b and d import from the same clusters but do not share the list")
	}
	if &from["c"][0] == &from["a"][0] {
		t.Errorf("c shares a's list, which differs")
	}
}
