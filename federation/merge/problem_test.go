package merge

import (
	"slices"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
)

// TestProblems: unusable input is ignored and reported, never silently dropped.
func TestProblems(t *testing.T) {
	invalidScope := export("e1", "everywhere", 0)
	noName := export("e1", model.ScopeGlobal, 0, withName(""))
	tests := []struct {
		name      string
		clusters  []model.Cluster
		segments  []model.Segment
		exports   []model.ClusterExport
		want      []InputProblem // Message is matched as a substring
		exporters []string       // of the single remaining service; nil: no service
	}{
		{name: "unknown cluster",
			exports:   []model.ClusterExport{export("ghost", model.ScopeGlobal, 0), export("e1", model.ScopeGlobal, 1)},
			want:      []InputProblem{{Reason: ProblemUnknownCluster, Cluster: "ghost", Namespace: "ns", Name: "svc", Message: "not a member"}},
			exporters: []string{"e1"}},
		{name: "invalid scope", exports: []model.ClusterExport{invalidScope},
			want: []InputProblem{{Reason: ProblemInvalidScope, Cluster: "e1", Namespace: "ns", Name: "svc", Message: `"everywhere"`}}},
		{name: "no name", exports: []model.ClusterExport{noName},
			want: []InputProblem{{Reason: ProblemInvalidExport, Cluster: "e1", Namespace: "ns", Message: "no namespace or name"}}},
		{name: "duplicate export keeps the oldest",
			exports: []model.ClusterExport{export("e1", model.ScopeCluster, 5), export("e1", model.ScopeGlobal, 2)},
			want: []InputProblem{{Reason: ProblemDuplicateExport, Cluster: "e1", Namespace: "ns", Name: "svc",
				Message: "a copy created 2025-01-01T00:05:00Z is ignored"}},
			exporters: []string{"e1"}},
		{name: "foreign endpoint is rewritten",
			exports: []model.ClusterExport{export("e1", model.ScopeGlobal, 0, withEndpoints(
				model.Endpoint{Address: "10.0.0.9", Locality: model.Locality{Cluster: "w1"}}))},
			want:      []InputProblem{{Reason: ProblemForeignEndpoint, Cluster: "e1", Namespace: "ns", Name: "svc", Message: "1 endpoint(s)"}},
			exporters: []string{"e1"}},
		{name: "duplicate cluster keeps the smallest",
			clusters:  []model.Cluster{{Name: "e1", Segment: "west"}, {Name: "e1", Segment: "east"}},
			exports:   []model.ClusterExport{export("e1", model.ScopeGlobal, 0)},
			want:      []InputProblem{{Reason: ProblemDuplicateCluster, Cluster: "e1", Message: `listed 2 times; using segment "east"`}},
			exporters: []string{"e1"}},
		{name: "cluster without a name",
			clusters: []model.Cluster{{Segment: "east"}},
			want:     []InputProblem{{Reason: ProblemInvalidCluster, Segment: "east", Message: "without a name"}}},
		{name: "duplicate segment keeps the smallest domain",
			segments: []model.Segment{{Name: "east", Domain: "z.example"}, {Name: "east", Domain: "a.example"}},
			want:     []InputProblem{{Reason: ProblemDuplicateSegment, Segment: "east", Message: `using domain "a.example"`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Clusters: tt.clusters, Segments: tt.segments, Exports: tt.exports}
			if in.Clusters == nil {
				in.Clusters = fixtureClusters()
			}
			r := Merge(in)
			checkProblems(t, r.Problems, tt.want)
			if tt.exporters == nil {
				if len(r.Services) != 0 {
					t.Errorf("unexpected services %s", mustJSON(t, r.Services))
				}
				return
			}
			svc := onlyService(t, in).Global
			var got []string
			for _, e := range svc.Exporters {
				got = append(got, e.Cluster)
			}
			if !slices.Equal(got, tt.exporters) {
				t.Errorf("exporters %v, want %v", got, tt.exporters)
			}
		})
	}
}

// checkProblems compares problems field by field, messages by substring.
func checkProblems(t *testing.T, got, want []InputProblem) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("problems %+v, want %+v", got, want)
	}
	for i, w := range want {
		g := got[i]
		msg := g.Message
		g.Message, w.Message = "", ""
		if g != w {
			t.Errorf("problem %d: %+v, want %+v", i, got[i], want[i])
		}
		if !strings.Contains(msg, want[i].Message) {
			t.Errorf("problem %d message %q lacks %q", i, msg, want[i].Message)
		}
	}
}

// TestDuplicateExportKeepsOldest: of two exports of one service by one cluster, the oldest
// is merged whatever the input order.
func TestDuplicateExportKeepsOldest(t *testing.T) {
	older := export("e1", model.ScopeSegment, 1)
	newer := export("e1", model.ScopeGlobal, 2)
	for _, exports := range [][]model.ClusterExport{{older, newer}, {newer, older}} {
		svc := onlyService(t, Input{Clusters: fixtureClusters(), Exports: exports}).Global
		if svc.Exporters[0].Scope != model.ScopeSegment {
			t.Errorf("kept scope %q, want the oldest export's, segment", svc.Exporters[0].Scope)
		}
	}
}

// TestDropsExport lists which reasons account for an ignored export.
func TestDropsExport(t *testing.T) {
	tests := []struct {
		reason ProblemReason
		drops  bool
	}{
		{ProblemUnknownCluster, true},
		{ProblemInvalidScope, true},
		{ProblemInvalidExport, true},
		{ProblemDuplicateExport, true},
		{ProblemInvalidCluster, false},
		{ProblemDuplicateCluster, false},
		{ProblemDuplicateSegment, false},
		{ProblemForeignEndpoint, false},
	}
	for _, tt := range tests {
		if got := tt.reason.DropsExport(); got != tt.drops {
			t.Errorf("%s.DropsExport() = %v, want %v", tt.reason, got, tt.drops)
		}
	}
}
