package controller

import (
	"testing"

	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
)

// TestServiceRecordMemo: a pass takes a service's record from the memo while the merge kept
// the service and its waypoint ports stayed; a new record otherwise, equal to the one a pass
// without the memo builds.
func TestServiceRecordMemo(t *testing.T) {
	in := merge.Input{
		Clusters: []model.Cluster{{Name: "east", Network: "n1"}, {Name: "west", Network: "n1"}},
		Exports: []model.ClusterExport{
			{Cluster: "east", Namespace: "shop", Name: "cart", Scope: model.ScopeGlobal, Ports: []model.Port{{Name: "http", Port: 80, Protocol: "TCP"}}},
			{Cluster: "west", Namespace: "shop", Name: "cart", Scope: model.ScopeGlobal, Ports: []model.Port{{Name: "http", Port: 80, Protocol: "TCP"}}},
		},
		Memo: &merge.Memo{},
	}
	var memo recordMemo
	records := func(in merge.Input, port int32) Desired {
		res := merge.Merge(in)
		ports := map[portKey]int32{{svc: res.Services[0].Key(), port: 80, protocol: "TCP"}: port}
		d := desiredRecords(&res, nil, ports, &memo)
		if want := DesiredRecords(&res, nil, ports); mustEncode(t, d.Services[0]) != mustEncode(t, want.Services[0]) {
			t.Fatalf("record through the memo differs from the record without it")
		}
		return d
	}
	prev := records(in, 15001).Services[0]
	for _, step := range []struct {
		name   string
		change func()
		port   int32
		kept   bool
	}{
		{name: "nothing changed", change: func() {}, port: 15001, kept: true},
		{name: "waypoint port changed", change: func() {}, port: 15002},
		{name: "endpoints changed", change: func() { in.Exports[0].Endpoints = []model.Endpoint{{Address: "10.0.0.1"}} }, port: 15002, kept: true},
		{name: "an exporter's scope changed", change: func() { in.Exports[1].Scope = model.ScopeSegment }, port: 15002},
	} {
		step.change()
		got := records(in, step.port).Services[0]
		if kept := got == prev; kept != step.kept {
			t.Errorf("%s: record taken from the memo %v, want %v", step.name, kept, step.kept)
		}
		prev = got
	}
}

// mustEncode is the store encoding of r.
func mustEncode(t *testing.T, r store.Record) string {
	t.Helper()
	_, val, err := store.Encode(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(val)
}
