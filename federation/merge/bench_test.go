package merge

import (
	"fmt"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
)

// benchInput builds services × clusters exports of endpoints each: two segments sharing a
// domain, mixed scopes, two ports, endpoints with node-level locality.
func benchInput(services, clusters, endpoints int) Input {
	in := Input{Segments: []model.Segment{{Name: "s0", Domain: "mesh.example"}, {Name: "s1", Domain: "mesh.example"}}}
	for c := range clusters {
		in.Clusters = append(in.Clusters, model.Cluster{
			Name: fmt.Sprintf("cluster-%02d", c), Segment: fmt.Sprintf("s%d", c%2), Network: fmt.Sprintf("net-%d", c%4), Region: "eu",
		})
	}
	scopes := []model.Scope{model.ScopeGlobal, model.ScopeGlobal, model.ScopeSegment, model.ScopeCluster}
	for s := range services {
		for c := range clusters {
			e := model.ClusterExport{
				Cluster: in.Clusters[c].Name, Namespace: fmt.Sprintf("ns-%d", s%50), Name: fmt.Sprintf("svc-%d", s),
				Scope: scopes[(s+c)%len(scopes)], Created: at(c), Type: model.ServiceTypeClusterSetIP,
				Ports: []model.Port{{Name: "http", Port: 80, Protocol: "TCP", AppProtocol: "http"}, {Name: "metrics", Port: 9090, Protocol: "TCP"}},
			}
			for i := range endpoints {
				ep := endpoint(fmt.Sprintf("10.%d.%d.%d", c, s/250, (s%250)*endpoints/10+i), i%5 != 0, "http", "metrics")
				ep.Locality = model.Locality{Zone: fmt.Sprintf("z%d", i%3), Node: fmt.Sprintf("node-%d", i)}
				e.Endpoints = append(e.Endpoints, ep)
			}
			in.Exports = append(in.Exports, e)
		}
	}
	return in
}

// BenchmarkMerge merges 1,000 services × 20 clusters × 10 endpoints (target: ≤ 200 ms/op).
func BenchmarkMerge(b *testing.B) {
	in := benchInput(1000, 20, 10)
	b.ReportAllocs()
	for b.Loop() {
		r := Merge(in)
		if len(r.Services) != 1000 {
			b.Fatalf("got %d services", len(r.Services))
		}
	}
}

// BenchmarkEndpointsFor reads one client's addressable endpoints of a 20-cluster service.
func BenchmarkEndpointsFor(b *testing.B) {
	r := Merge(benchInput(1, 20, 10))
	s := &r.Services[0]
	b.ReportAllocs()
	for b.Loop() {
		if len(s.EndpointsFor("cluster-07")) == 0 {
			b.Fatal("no endpoints")
		}
	}
}
