package merge

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
)

// TestTypeConflict: the oldest export's type wins (ties by cluster name) and disagreement is
// a TypeConflict naming every exporter.
func TestTypeConflict(t *testing.T) {
	headless, setIP := model.ServiceTypeHeadless, model.ServiceTypeClusterSetIP
	tests := []struct {
		name     string
		exports  []model.ClusterExport
		want     model.ServiceType
		conflict string // substring of the TypeConflict message; empty: none
	}{
		{"agree", []model.ClusterExport{
			export("e1", model.ScopeGlobal, 0, withType(headless)), export("e2", model.ScopeGlobal, 1, withType(headless))},
			headless, ""},
		{"empty type is ClusterSetIP", []model.ClusterExport{
			export("e1", model.ScopeGlobal, 0, withType("")), export("e2", model.ScopeGlobal, 1, withType(setIP))},
			setIP, ""},
		{"oldest wins", []model.ClusterExport{
			export("e1", model.ScopeGlobal, 3, withType(setIP)), export("e2", model.ScopeGlobal, 1, withType(headless)), export("e3", model.ScopeGlobal, 2, withType(setIP))},
			headless, "the oldest export (e2) wins with Headless; ClusterSetIP in e1, e3; Headless in e2"},
		{"tie by cluster name", []model.ClusterExport{
			export("e2", model.ScopeGlobal, 0, withType(setIP)), export("e1", model.ScopeGlobal, 0, withType(headless))},
			headless, "the oldest export (e1) wins"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := onlyService(t, Input{Clusters: fixtureClusters(), Segments: fixtureSegments(), Exports: tt.exports}).Global
			if svc.Type != tt.want {
				t.Errorf("type %q, want %q", svc.Type, tt.want)
			}
			got := conflictsOf(&svc, model.ReasonTypeConflict)
			if tt.conflict == "" {
				if len(got) != 0 {
					t.Errorf("unexpected conflicts %v", got)
				}
				return
			}
			if len(got) != 1 || !strings.Contains(got[0].Message, tt.conflict) {
				t.Fatalf("type conflicts %v, want one containing %q", got, tt.conflict)
			}
			var all []string
			for _, e := range tt.exports {
				all = append(all, e.Cluster)
			}
			slices.Sort(all)
			if !slices.Equal(got[0].Clusters, all) {
				t.Errorf("conflict clusters %v, want %v", got[0].Clusters, all)
			}
		})
	}
}

// TestDistribution: unset distributions never conflict; agreeing setters give theirs;
// disagreeing setters give the default and a TrafficDistributionConflict naming the setters.
func TestDistribution(t *testing.T) {
	def := model.Distribution{Mode: model.DefaultBackendMode}
	unset := func(c string, age int) model.ClusterExport { return export(c, model.ScopeGlobal, age) }
	set := func(c string, age int, m model.Mode, keys ...string) model.ClusterExport {
		return export(c, model.ScopeGlobal, age, withDistribution(m, keys...))
	}
	tests := []struct {
		name     string
		exports  []model.ClusterExport
		want     model.Distribution
		clusters []string // of the conflict; nil: none
	}{
		{"no setter: default", []model.ClusterExport{unset("e1", 0), unset("e2", 1)}, def, nil},
		{"one setter", []model.ClusterExport{unset("e1", 0), set("e2", 1, model.ModePreferClose)},
			model.Distribution{Mode: model.ModePreferClose}, nil},
		{"agreeing setters and an unset one", []model.ClusterExport{set("e1", 0, model.ModePreferRegion), unset("e2", 1), set("e3", 2, model.ModePreferRegion)},
			model.Distribution{Mode: model.ModePreferRegion}, nil},
		{"agreeing failover priority", []model.ClusterExport{set("e1", 0, model.ModeFailoverPriority, "a", "b"), set("e2", 1, model.ModeFailoverPriority, "a", "b")},
			model.Distribution{Mode: model.ModeFailoverPriority, FailoverPriority: []string{"a", "b"}}, nil},
		{"disagreeing setters: default, not oldest", []model.ClusterExport{set("e1", 0, model.ModePreferClose), unset("e2", 1), set("e3", 2, model.ModeAny)},
			def, []string{"e1", "e3"}},
		{"failover priority keys differ", []model.ClusterExport{set("e1", 0, model.ModeFailoverPriority, "a", "b"), set("e2", 1, model.ModeFailoverPriority, "b", "a")},
			def, []string{"e1", "e2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := onlyService(t, Input{Clusters: fixtureClusters(), Segments: fixtureSegments(), Exports: tt.exports}).Global
			if !reflect.DeepEqual(svc.Distribution, tt.want) {
				t.Errorf("distribution %+v, want %+v", svc.Distribution, tt.want)
			}
			got := conflictsOf(&svc, model.ReasonTrafficDistributionConflict)
			if tt.clusters == nil {
				if len(got) != 0 {
					t.Errorf("unexpected conflicts %v", got)
				}
				return
			}
			if len(got) != 1 || !slices.Equal(got[0].Clusters, tt.clusters) {
				t.Fatalf("distribution conflicts %v, want one naming %v", got, tt.clusters)
			}
			if !strings.Contains(got[0].Message, "default "+string(model.DefaultBackendMode)) {
				t.Errorf("message %q does not name the default", got[0].Message)
			}
		})
	}
}

// TestConflictsAllKinds: one service with every kind of conflict reports each, sorted by
// reason, and none is dropped.
func TestConflictsAllKinds(t *testing.T) {
	in := Input{Clusters: fixtureClusters(), Segments: fixtureSegments(), Exports: []model.ClusterExport{
		export("e1", model.ScopeGlobal, 0, withType(model.ServiceTypeHeadless), withDistribution(model.ModeAny),
			withPorts(tcp("http", 80), app(tcp("grpc", 90), "grpc"))),
		export("e2", model.ScopeGlobal, 1, withDistribution(model.ModePreferClose),
			withPorts(tcp("http", 81), app(tcp("grpc", 90), "http"))),
	}}
	svc := onlyService(t, in).Global
	var reasons []model.ConflictReason
	for _, c := range svc.Conflicts {
		reasons = append(reasons, c.Reason)
	}
	want := []model.ConflictReason{model.ReasonPortConflict, model.ReasonPortConflict, model.ReasonTrafficDistributionConflict, model.ReasonTypeConflict}
	if !slices.Equal(reasons, want) {
		t.Errorf("conflict reasons %v, want %v", reasons, want)
	}
}

// TestOutlierOldestWins: the oldest export that sets an outlier policy gives the service's;
// the result is a copy.
func TestOutlierOldestWins(t *testing.T) {
	policy := func(n uint32) *model.OutlierPolicy { return &model.OutlierPolicy{Consecutive5xxErrors: &n} }
	with := func(p *model.OutlierPolicy) exportOption { return func(e *model.ClusterExport) { e.Outlier = p } }
	tests := []struct {
		name    string
		exports []model.ClusterExport
		want    *model.OutlierPolicy
	}{
		{"none", []model.ClusterExport{export("e1", model.ScopeGlobal, 0), export("e2", model.ScopeGlobal, 1)}, nil},
		{"oldest setter", []model.ClusterExport{
			export("e1", model.ScopeGlobal, 0), export("e2", model.ScopeGlobal, 2, with(policy(7))), export("e3", model.ScopeGlobal, 1, with(policy(3))),
		}, policy(3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Clusters: fixtureClusters(), Segments: fixtureSegments(), Exports: tt.exports}
			svc := onlyService(t, in).Global
			if !reflect.DeepEqual(svc.Outlier, tt.want) {
				t.Fatalf("outlier %v, want %v", svc.Outlier, tt.want)
			}
			if svc.Outlier != nil {
				*svc.Outlier.Consecutive5xxErrors = 99
				for _, e := range in.Exports {
					if e.Outlier != nil && *e.Outlier.Consecutive5xxErrors == 99 {
						t.Error("the merged policy shares memory with an export")
					}
				}
			}
		})
	}
}
