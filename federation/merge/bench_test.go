package merge

import (
	"fmt"
	"slices"
	"strings"
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

// BenchmarkMergeOneChange merges again, through the memo, 1,000 services exported by each of
// 10, 20, 50 or 100 clusters after one endpoint of one service in one cluster changed:
// "memo" compares every export with the memo's, "same" is given every other cluster as
// Input.Same. The cost of "same" should not grow with the clusters.
func BenchmarkMergeOneChange(b *testing.B) {
	for _, clusters := range []int{10, 20, 50, 100} {
		in := benchInput(1000, clusters, 10)
		// As the hub gathers them: each cluster's exports in one run.
		slices.SortStableFunc(in.Exports, func(a, b model.ClusterExport) int { return strings.Compare(a.Cluster, b.Cluster) })
		const changed = 7 // the cluster, and the service in it, that change
		// Two lists of the changed export's endpoints, alternately its.
		e := &in.Exports[changed*1000+changed]
		lists := [2][]model.Endpoint{e.Endpoints, slices.Clone(e.Endpoints)}
		lists[1][3].Ready = !lists[1][3].Ready
		same := map[string]bool{}
		for i, c := range in.Clusters {
			if i != changed {
				same[c.Name] = true
			}
		}
		for _, mode := range []string{"memo", "same"} {
			b.Run(fmt.Sprintf("%s/%d-clusters", mode, clusters), func(b *testing.B) {
				in.Memo, in.Same = &Memo{}, nil
				Merge(in)
				if mode == "same" {
					in.Same = same
				}
				for i := 0; b.Loop(); i++ {
					e.Endpoints = lists[(i+1)%2]
					if r := Merge(in); len(r.Services) != 1000 {
						b.Fatalf("got %d services", len(r.Services))
					}
				}
				e.Endpoints = lists[0]
			})
		}
	}
}
