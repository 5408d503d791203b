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
	zero, fifty := uint32(0), uint32(50)
	withLoad := func(p uint32) exportOption {
		return func(e *model.ClusterExport) { e.Load = &model.LoadPolicy{PanicThreshold: &p} }
	}
	in := Input{Clusters: fixtureClusters(), Segments: fixtureSegments(), Exports: []model.ClusterExport{
		export("e1", model.ScopeGlobal, 0, withType(model.ServiceTypeHeadless), withDistribution(model.ModeAny),
			withPorts(tcp("http", 80), app(tcp("grpc", 90), "grpc")), withLoad(zero)),
		export("e2", model.ScopeGlobal, 1, withDistribution(model.ModePreferClose),
			withPorts(tcp("http", 81), app(tcp("grpc", 90), "http")), withLoad(fifty)),
	}}
	svc := onlyService(t, in).Global
	var reasons []model.ConflictReason
	for _, c := range svc.Conflicts {
		reasons = append(reasons, c.Reason)
	}
	want := []model.ConflictReason{model.ReasonLoadPolicyConflict, model.ReasonPortConflict, model.ReasonPortConflict,
		model.ReasonTrafficDistributionConflict, model.ReasonTypeConflict}
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

// TestMergeLoadPolicy: the whole load policy of the oldest export that sets one is the
// service's (a copy); exports that set none never conflict; setters that differ are one
// LoadPolicyConflict naming every setter, with the winner first in the message.
func TestMergeLoadPolicy(t *testing.T) {
	u := func(n uint32) *uint32 { return &n }
	with := func(p *model.LoadPolicy) exportOption { return func(e *model.ClusterExport) { e.Load = p } }
	factor := func(n uint32) *model.LoadPolicy { return &model.LoadPolicy{OverprovisioningFactor: u(n)} }
	both := func(f, p uint32) *model.LoadPolicy {
		return &model.LoadPolicy{OverprovisioningFactor: u(f), PanicThreshold: u(p)}
	}
	remote := func(r model.RemoteEndpoints) *model.LoadPolicy { return &model.LoadPolicy{RemoteEndpoints: r} }
	tests := []struct {
		name     string
		exports  []model.ClusterExport
		want     *model.LoadPolicy
		clusters []string // of the LoadPolicyConflict; nil for none
		winner   string
	}{
		{name: "none sets one", exports: []model.ClusterExport{export("e1", model.ScopeGlobal, 0), export("e2", model.ScopeGlobal, 1)}},
		{name: "one setter, others silent", exports: []model.ClusterExport{
			export("e1", model.ScopeGlobal, 0), export("e2", model.ScopeGlobal, 1, with(both(200, 0))),
		}, want: both(200, 0)},
		{name: "setters agree", exports: []model.ClusterExport{
			export("e1", model.ScopeGlobal, 0, with(both(100, 30))), export("e2", model.ScopeGlobal, 1, with(both(100, 30))),
		}, want: both(100, 30)},
		{name: "oldest setter wins, by creation time not name", exports: []model.ClusterExport{
			export("e1", model.ScopeGlobal, 2, with(factor(300))), export("e2", model.ScopeGlobal, 1, with(factor(100))),
			export("e3", model.ScopeGlobal, 0),
		}, want: factor(100), clusters: []string{"e1", "e2"}, winner: "e2"},
		{name: "whole policy wins, never a mix of settings", exports: []model.ClusterExport{
			export("e1", model.ScopeGlobal, 0, with(factor(150))), export("e2", model.ScopeGlobal, 1, with(both(140, 0))),
		}, want: factor(150), clusters: []string{"e1", "e2"}, winner: "e1"},
		{name: "an empty policy is no policy", exports: []model.ClusterExport{
			export("e1", model.ScopeGlobal, 0, with(&model.LoadPolicy{})), export("e2", model.ScopeGlobal, 1, with(factor(120))),
		}, want: factor(120)},
		{name: "remote endpoints alone is a policy", exports: []model.ClusterExport{
			export("e1", model.ScopeGlobal, 0), export("e2", model.ScopeGlobal, 1, with(remote(model.RemoteEndpointsAggregated))),
		}, want: remote(model.RemoteEndpointsAggregated)},
		{name: "remote endpoints differ: the oldest wins", exports: []model.ClusterExport{
			export("e1", model.ScopeGlobal, 1, with(remote(model.RemoteEndpointsAggregated))),
			export("e2", model.ScopeGlobal, 0, with(remote(model.RemoteEndpointsEach))),
		}, want: remote(model.RemoteEndpointsEach), clusters: []string{"e1", "e2"}, winner: "e2"},
		{name: "remote endpoints set beside the same factor is another policy", exports: []model.ClusterExport{
			export("e1", model.ScopeGlobal, 0, with(factor(150))),
			export("e2", model.ScopeGlobal, 1, with(&model.LoadPolicy{OverprovisioningFactor: u(150), RemoteEndpoints: model.RemoteEndpointsAggregated})),
		}, want: factor(150), clusters: []string{"e1", "e2"}, winner: "e1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Clusters: fixtureClusters(), Segments: fixtureSegments(), Exports: tt.exports}
			svc := onlyService(t, in).Global
			if !reflect.DeepEqual(svc.Load, tt.want) {
				t.Fatalf("load policy %v, want %v", svc.Load, tt.want)
			}
			var got []model.Conflict
			for _, c := range svc.Conflicts {
				if c.Reason == model.ReasonLoadPolicyConflict {
					got = append(got, c)
				}
			}
			switch {
			case tt.clusters == nil && len(got) != 0:
				t.Fatalf("conflicts %v, want none", got)
			case tt.clusters != nil && (len(got) != 1 || !slices.Equal(got[0].Clusters, tt.clusters)):
				t.Fatalf("conflicts %v, want one naming %v", got, tt.clusters)
			case tt.clusters != nil && !strings.Contains(got[0].Message, "("+tt.winner+") wins with "+tt.want.String()):
				t.Errorf("message %q does not name the winner %s", got[0].Message, tt.winner)
			}
			if svc.Load != nil && svc.Load.OverprovisioningFactor != nil {
				*svc.Load.OverprovisioningFactor = 99999
				for _, e := range in.Exports {
					if e.Load != nil && e.Load.OverprovisioningFactor != nil && *e.Load.OverprovisioningFactor == 99999 {
						t.Error("the merged policy shares memory with an export")
					}
				}
			}
		})
	}
}
