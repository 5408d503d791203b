package priority

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
)

// benchEndpoints builds n endpoints spread over 3 networks, 6 clusters, 3 regions, 3 zones per
// region, 2 subzones and 200 nodes; one in ten is unready and weights vary.
func benchEndpoints(n int) []model.Endpoint {
	eps := make([]model.Endpoint, n)
	for i := range eps {
		cluster := i % 6
		eps[i] = model.Endpoint{
			Address: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255),
			Ports:   []model.EndpointPort{{Name: "http", Port: 8080}},
			Locality: model.Locality{
				Network: fmt.Sprintf("net-%d", cluster/2),
				Cluster: fmt.Sprintf("cluster-%d", cluster),
				Region:  fmt.Sprintf("region-%d", i/7%3),
				Zone:    fmt.Sprintf("zone-%d", i/11%3),
				Subzone: fmt.Sprintf("sub-%d", i/13%2),
				Node:    fmt.Sprintf("node-%d", i%200),
			},
			Ready: i%10 != 0, Serving: true,
			Weight: uint32(1 + i%3),
		}
	}
	return eps
}

var benchClient = Client{Locality: model.Locality{
	Network: "net-0", Cluster: "cluster-0", Region: "region-0", Zone: "zone-0", Subzone: "sub-0", Node: "node-0"}}

// atomicCounters is an InFlight backed by atomics, as the waypoint's would be.
type atomicCounters []atomic.Int64

// InFlight loads endpoint i's count.
func (c *atomicCounters) InFlight(i int) int64 { return (*c)[i].Load() }

// BenchmarkTierAndSplit10k is tiering plus the Envoy load split for a 10,000-endpoint service.
func BenchmarkTierAndSplit10k(b *testing.B) {
	eps := benchEndpoints(10_000)
	d := model.Distribution{Mode: model.ModePreferClose}
	b.ReportAllocs()
	for b.Loop() {
		tiers, err := Assign(eps, benchClient, d)
		if err != nil {
			b.Fatal(err)
		}
		Distribute(tiers.Health(eps, nil), LoadOptions{})
	}
}

// BenchmarkNewPlan10k is tiering plus a full Plan (load split and per-tier candidates).
func BenchmarkNewPlan10k(b *testing.B) {
	eps := benchEndpoints(10_000)
	d := model.Distribution{Mode: model.ModePreferSameNode}
	ejected := func(i int) bool { return i%97 == 0 }
	b.ReportAllocs()
	for b.Loop() {
		tiers, err := Assign(eps, benchClient, d)
		if err != nil {
			b.Fatal(err)
		}
		NewPlan(eps, tiers, ejected, LoadOptions{})
	}
}

// benchCandidates returns a 100-endpoint candidate set, uniform or weighted.
func benchCandidates(weightedSet bool) (*Candidates, InFlight) {
	eps := benchEndpoints(100)
	idx := make([]int, len(eps))
	for i := range eps {
		idx[i] = i
		if !weightedSet {
			eps[i].Weight = 0
		}
	}
	in := make(atomicCounters, len(eps))
	for i := range in {
		in[i].Store(int64(i % 7))
	}
	return NewCandidates(eps, idx), &in
}

func BenchmarkPickLeastRequest(b *testing.B) {
	for _, w := range []bool{false, true} {
		b.Run(fmt.Sprintf("weighted=%v", w), func(b *testing.B) {
			c, in := benchCandidates(w)
			p := NewLeastRequest(NewSplitMix(1))
			b.ReportAllocs()
			for b.Loop() {
				p.Pick(c, in)
			}
		})
	}
}

func BenchmarkPickRoundRobin(b *testing.B) {
	for _, w := range []bool{false, true} {
		b.Run(fmt.Sprintf("weighted=%v", w), func(b *testing.B) {
			c, in := benchCandidates(w)
			var p Picker = RoundRobin{}
			b.ReportAllocs()
			for b.Loop() {
				p.Pick(c, in)
			}
		})
	}
}

// BenchmarkPlanPick is the per-request path: choose a tier by load, then least-request inside it.
func BenchmarkPlanPick(b *testing.B) {
	eps := benchEndpoints(10_000)
	tiers, err := Assign(eps, benchClient, model.Distribution{Mode: model.ModePreferClose})
	if err != nil {
		b.Fatal(err)
	}
	p := NewPlan(eps, tiers, func(i int) bool { return i%3 == 0 }, LoadOptions{})
	src := NewSplitMix(1)
	var pk Picker = NewLeastRequest(src)
	counts := make(atomicCounters, len(eps))
	var in InFlight = &counts
	b.ReportAllocs()
	for b.Loop() {
		p.Pick(src, pk, in)
	}
}
