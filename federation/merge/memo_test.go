package merge

import (
	"bytes"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
)

// TestMemo: an export whose endpoints are the same slice is copied again when anything else
// its copy depends on changed (its ports' names, its cluster's network, its scope), and taken
// from the memo otherwise; every merge equals the merge without the memo.
func TestMemo(t *testing.T) {
	eps := []model.Endpoint{endpoint("10.0.0.1", true, "http"), endpoint("10.0.0.2", false, "http")}
	base := func() Input {
		return Input{
			Clusters: []model.Cluster{{Name: "a", Network: "n1"}},
			Exports: []model.ClusterExport{{
				Cluster: "a", Namespace: "shop", Name: "cart", Scope: model.ScopeGlobal, Created: at(0),
				Ports: []model.Port{{Name: "http", Port: 80, Protocol: "TCP"}}, Endpoints: eps,
			}},
		}
	}
	tests := []struct {
		name   string
		change func(*Input)
		reused bool
		// kept: the service itself is taken from the memo (the same Service.Built).
		kept bool
	}{
		{"nothing changed", func(*Input) {}, true, true},
		{"the service's port renamed", func(in *Input) { in.Exports[0].Ports[0].Name = "web" }, false, false},
		{"the cluster's network changed", func(in *Input) { in.Clusters[0].Network = "n2" }, false, false},
		{"another cluster joined", func(in *Input) { in.Clusters = append(in.Clusters, model.Cluster{Name: "b"}) }, true, false},
		{"the export's scope changed", func(in *Input) { in.Exports[0].Scope = model.ScopeCluster }, false, false},
		{"the export's outlier policy changed", func(in *Input) { in.Exports[0].Outlier = &model.OutlierPolicy{} }, true, false},
		{"equal endpoints in another slice", func(in *Input) { in.Exports[0].Endpoints = append([]model.Endpoint(nil), eps...) }, false, true},
		{"another service exported", func(in *Input) {
			in.Exports = append(in.Exports, model.ClusterExport{Cluster: "a", Namespace: "shop", Name: "pay", Scope: model.ScopeGlobal})
		}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			memo := &Memo{}
			first := base()
			first.Memo = memo
			r0 := Merge(first).Services[0]
			before, built := r0.Endpoints[0].Endpoints, r0.Built
			if built == 0 {
				t.Fatal("a merge through a memo has no number")
			}
			in := base()
			tt.change(&in)
			want := mustJSON(t, Merge(in))
			in.Memo = memo
			r := Merge(in)
			if got := mustJSON(t, r); !bytes.Equal(got, want) {
				t.Fatalf("through the memo:\n got %s\nwant %s", got, want)
			}
			after := r.Services[0].Endpoints[0].Endpoints
			if reused := &after[0] == &before[0]; reused != tt.reused {
				t.Errorf("copy taken from the memo: %v, want %v", reused, tt.reused)
			}
			if kept := r.Services[0].Built == built; kept != tt.kept {
				t.Errorf("service taken from the memo: %v, want %v", kept, tt.kept)
			}
		})
	}
}
