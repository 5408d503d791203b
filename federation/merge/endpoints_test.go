package merge

import (
	"reflect"
	"slices"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
)

// TestClusterEndpoints: each exporter's endpoints are sorted by address, carry the exporter
// in their locality (network and region filled when empty), and are counted as exporters.
func TestClusterEndpoints(t *testing.T) {
	notReady := endpoint("10.0.0.2", false, "http")
	terminating := endpoint("10.0.0.3", true, "http")
	terminating.Terminating = true
	own := endpoint("10.0.0.1", true, "http")
	own.Locality = model.Locality{Network: "ns-label-net", Zone: "z1", Node: "n"}
	in := Input{Clusters: fixtureClusters(), Segments: fixtureSegments(), Exports: []model.ClusterExport{
		export("e1", model.ScopeGlobal, 0, withEndpoints(terminating, notReady, own)),
		export("e2", model.ScopeGlobal, 1, withEndpoints()),
	}}
	s := onlyService(t, in)
	got := s.EndpointsOf("e1")
	var addrs []string
	for _, ep := range got {
		addrs = append(addrs, ep.Address)
	}
	if want := []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}; !slices.Equal(addrs, want) {
		t.Fatalf("addresses %v, want %v", addrs, want)
	}
	wantLoc := model.Locality{Network: "ns-label-net", Region: "eu", Zone: "z1", Node: "n", Cluster: "e1"}
	if got[0].Locality != wantLoc {
		t.Errorf("locality %+v, want %+v (network kept, region filled)", got[0].Locality, wantLoc)
	}
	if l := got[1].Locality; l.Network != "net-e" || l.Cluster != "e1" {
		t.Errorf("locality %+v, want network net-e from the cluster", l)
	}
	if eps := s.EndpointsOf("e2"); eps != nil {
		t.Errorf("e2 endpoints %v, want none", eps)
	}
	if eps := s.EndpointsOf("w1"); eps != nil {
		t.Errorf("non-exporter w1 endpoints %v, want nil", eps)
	}
	want := []model.Exporter{
		{Cluster: "e1", Scope: model.ScopeGlobal, Endpoints: 3, Ready: 1},
		{Cluster: "e2", Scope: model.ScopeGlobal},
	}
	if !slices.Equal(s.Global.Exporters, want) {
		t.Errorf("exporters %v, want %v", s.Global.Exporters, want)
	}
}

// TestReach: Reach.From, Reach.To, Reach.Endpoints and EndpointsFor agree with the imports.
func TestReach(t *testing.T) {
	in := Input{Clusters: fixtureClusters(), Segments: fixtureSegments(), Exports: []model.ClusterExport{
		export("e1", model.ScopeCluster, 0, withEndpoints(endpoint("10.1.0.1", true, "http"))),
		export("e2", model.ScopeSegment, 1, withEndpoints(endpoint("10.2.0.1", true, "http"))),
		export("e3", model.ScopeGlobal, 2, withEndpoints(endpoint("10.3.0.1", true, "http"))),
	}}
	r := Merge(in)
	s, ok := r.Lookup(Key{Namespace: "ns", Domain: "east.example", Name: "svc"})
	if !ok {
		t.Fatal("service not found by key")
	}
	byCluster := map[string][]model.Endpoint{}
	for _, ce := range s.Endpoints {
		byCluster[ce.Cluster] = ce.Endpoints
	}
	delete(byCluster, "e2") // as if the store had not yet delivered e2's endpoints
	tests := []struct {
		client      string
		visible     []string
		addrs       []string
		addressable []string
		reachedBy   []string // the clients that may address this cluster's endpoints
	}{
		{"e1", []string{"e1", "e2", "e3"}, []string{"10.1.0.1", "10.2.0.1", "10.3.0.1"}, []string{"e1", "e3"}, []string{"e1"}},
		{"e2", []string{"e2", "e3"}, []string{"10.2.0.1", "10.3.0.1"}, []string{"e3"}, []string{"e1", "e2", "e3"}},
		{"w1", []string{"e3"}, []string{"10.3.0.1"}, []string{"e3"}, nil},
		{"ghost", nil, nil, nil, nil},
	}
	// Imports read back in another order give the same answers.
	shuffled := slices.Clone(s.Global.Imports)
	slices.Reverse(shuffled)
	reaches := map[string]Reach{"merged": ReachOf(s.Global.Imports), "unsorted": ReachOf(shuffled)}
	for _, tt := range tests {
		t.Run(tt.client, func(t *testing.T) {
			for name, r := range reaches {
				if got := r.From(tt.client); !slices.Equal(got, tt.visible) {
					t.Errorf("%s: From = %v, want %v", name, got, tt.visible)
				}
				if got := r.To(tt.client); !slices.Equal(got, tt.reachedBy) {
					t.Errorf("%s: To = %v, want %v", name, got, tt.reachedBy)
				}
			}
			var addrs []string
			for _, ce := range s.EndpointsFor(tt.client) {
				for _, ep := range ce.Endpoints {
					addrs = append(addrs, ep.Address)
				}
			}
			if !slices.Equal(addrs, tt.addrs) {
				t.Errorf("EndpointsFor addresses %v, want %v", addrs, tt.addrs)
			}
			var clusters []string
			for _, ce := range ReachOf(s.Global.Imports).Endpoints(byCluster, tt.client) {
				clusters = append(clusters, ce.Cluster)
			}
			if !slices.Equal(clusters, tt.addressable) {
				t.Errorf("Endpoints clusters %v, want %v", clusters, tt.addressable)
			}
		})
	}
}

// TestLookupAndGlobalServices: the result is indexable by key and lists its services in order.
func TestLookupAndGlobalServices(t *testing.T) {
	in := Input{Clusters: fixtureClusters(), Segments: fixtureSegments(), Exports: []model.ClusterExport{
		export("w1", model.ScopeGlobal, 0, withName("b")),
		export("e1", model.ScopeGlobal, 0, withName("b")),
		export("e1", model.ScopeGlobal, 0, withName("a")),
	}}
	r := Merge(in)
	var hosts []string
	for _, g := range r.GlobalServices() {
		hosts = append(hosts, g.Hostname)
	}
	if want := []string{"a.ns.east.example", "b.ns.east.example", "b.ns.west.example"}; !slices.Equal(hosts, want) {
		t.Errorf("hostnames %v, want %v", hosts, want)
	}
	for _, s := range r.Services {
		got, ok := r.Lookup(s.Key())
		if !ok || !reflect.DeepEqual(got.Global, s.Global) {
			t.Errorf("Lookup(%v) = %v, %v", s.Key(), got, ok)
		}
	}
	if _, ok := r.Lookup(Key{Namespace: "ns", Domain: "mesh.internal", Name: "b"}); ok {
		t.Error("Lookup found a service that was never exported")
	}
	if k := KeyOf(&r.Services[0].Global); k.Hostname() != "a.ns.east.example" {
		t.Errorf("KeyOf hostname %q", k.Hostname())
	}
}
