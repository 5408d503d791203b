package controller

import (
	"slices"
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

// TestRecordsOfUnchangedService follows merges given merge.Input.Same: the records of a service
// the merge hands over as it made it are the memo's, until a member's staleness or the
// service's waypoint port changes; every pass's records are those built without a memo.
func TestRecordsOfUnchangedService(t *testing.T) {
	port := []model.Port{{Name: "http", Port: 80, Protocol: "TCP"}}
	in := merge.Input{
		Clusters: []model.Cluster{{Name: "east", Network: "n1"}, {Name: "north", Network: "n1"}, {Name: "west", Network: "n1"}},
		Exports: []model.ClusterExport{
			{Cluster: "east", Namespace: "shop", Name: "cart", Scope: model.ScopeGlobal, Ports: port, Endpoints: []model.Endpoint{{Address: "10.0.0.1"}}},
			{Cluster: "west", Namespace: "shop", Name: "cart", Scope: model.ScopeGlobal, Ports: port, Endpoints: []model.Endpoint{{Address: "10.0.2.1"}}},
			{Cluster: "west", Namespace: "shop", Name: "pay", Scope: model.ScopeGlobal, Ports: port, Endpoints: []model.Endpoint{{Address: "10.0.2.2"}}},
		},
		Memo: &merge.Memo{},
	}
	states := []MemberState{{Cluster: in.Clusters[0]}, {Cluster: in.Clusters[1]}, {Cluster: in.Clusters[2]}}
	var memo recordMemo
	payPort := int32(15002)
	records := func() Desired {
		t.Helper()
		res := merge.Merge(in)
		ports := map[portKey]int32{}
		for _, s := range res.Services {
			ports[portKey{svc: s.Key(), port: 80, protocol: "TCP"}] = map[string]int32{"cart": 15001, "pay": payPort}[s.Global.Name]
		}
		d := desiredRecords(&res, states, ports, &memo)
		want := DesiredRecords(&res, states, ports)
		for i := range want.Services {
			if mustEncode(t, d.Services[i]) != mustEncode(t, want.Services[i]) {
				t.Fatalf("service record %d through the memo differs from the record without it", i)
			}
		}
		if len(d.Endpoints) != len(want.Endpoints) {
			t.Fatalf("endpoints records of %d clusters through the memo, want %d", len(d.Endpoints), len(want.Endpoints))
		}
		for c, rs := range want.Endpoints {
			if len(d.Endpoints[c]) != len(rs) {
				t.Fatalf("cluster %s: %d endpoints records through the memo, want %d", c, len(d.Endpoints[c]), len(rs))
			}
			for i := range rs {
				if mustEncode(t, d.Endpoints[c][i]) != mustEncode(t, rs[i]) {
					t.Fatalf("cluster %s: endpoints record %d through the memo differs from the record without it", c, i)
				}
			}
		}
		return d
	}
	prev := records()
	for _, step := range []struct {
		name   string
		change func()
		same   []string
		// payKept: pay's endpoints record and service record are the memo's; payWhole: the
		// memo's entry of pay is kept as it is, without looking at its exporters.
		payKept, payServiceKept, payWhole bool
	}{
		{"east's endpoints of cart changed", func() { in.Exports[0].Endpoints = []model.Endpoint{{Address: "10.0.0.9"}} }, []string{"north", "west"}, true, true, true},
		{"nothing changed", func() {}, []string{"east", "north", "west"}, true, true, true},
		{"west went stale", func() { states[2].Stale = true }, []string{"east", "north", "west"}, false, true, false},
		{"pay's waypoint port changed", func() { payPort = 15003 }, []string{"east", "north", "west"}, true, false, false},
		{"nothing changed again", func() {}, []string{"east", "north", "west"}, true, true, true},
		{"no Same", func() {}, nil, true, true, false},
		{"north exports cart too", func() {
			in.Exports = append(in.Exports, model.ClusterExport{Cluster: "north", Namespace: "shop", Name: "cart", Scope: model.ScopeGlobal, Ports: port, Endpoints: []model.Endpoint{{Address: "10.0.1.1"}}})
		}, []string{"east", "west"}, true, true, true},
		{"east stops exporting cart", func() { in.Exports = in.Exports[1:] }, []string{"north", "west"}, true, true, true},
		{"west stops exporting pay", func() { in.Exports = slices.Delete(slices.Clone(in.Exports), 1, 2) }, []string{"east", "north"}, true, true, true},
	} {
		payKey := merge.Key{Namespace: "shop", Domain: "mesh.internal", Name: "pay"}
		entry := memo.services[payKey]
		step.change()
		in.Same = map[string]bool{}
		for _, c := range step.same {
			in.Same[c] = true
		}
		got := records()
		// west's records do not change but in the two steps that change them: its list is
		// then the last pass's, even when the merge made its services again.
		westChanged := step.name == "west went stale" || step.name == "west stops exporting pay"
		if kept := len(prev.Endpoints["west"]) > 0 && len(got.Endpoints["west"]) > 0 && &got.Endpoints["west"][0] == &prev.Endpoints["west"][0]; kept == westChanged {
			t.Errorf("%s: west's list of endpoints records kept %v, want %v", step.name, kept, !westChanged)
		}
		if len(got.Services) < 2 || len(got.Endpoints["west"]) < 2 {
			prev = got
			continue // pay is gone; records() compared what is left
		}
		if kept := got.Services[1] == prev.Services[1]; kept != step.payServiceKept {
			t.Errorf("%s: pay's service record taken from the memo %v, want %v", step.name, kept, step.payServiceKept)
		}
		if kept := got.Endpoints["west"][1] == prev.Endpoints["west"][1]; kept != step.payKept {
			t.Errorf("%s: pay's endpoints record taken from the memo %v, want %v", step.name, kept, step.payKept)
		}
		if whole := entry != nil && memo.services[payKey] == entry; whole != step.payWhole {
			t.Errorf("%s: pay's memo entry kept whole %v, want %v", step.name, whole, step.payWhole)
		}
		prev = got
	}
}
