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
	}{
		{"nothing changed", func(*Input) {}, true},
		{"the service's port renamed", func(in *Input) { in.Exports[0].Ports[0].Name = "web" }, false},
		{"the cluster's network changed", func(in *Input) { in.Clusters[0].Network = "n2" }, false},
		{"the export's scope changed", func(in *Input) { in.Exports[0].Scope = model.ScopeCluster }, false},
		{"equal endpoints in another slice", func(in *Input) { in.Exports[0].Endpoints = append([]model.Endpoint(nil), eps...) }, false},
		{"another service exported", func(in *Input) {
			in.Exports = append(in.Exports, model.ClusterExport{Cluster: "a", Namespace: "shop", Name: "pay", Scope: model.ScopeGlobal})
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			memo := &Memo{}
			first := base()
			first.Memo = memo
			before := Merge(first).Services[0].Endpoints[0].Endpoints
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
		})
	}
}
