package priority_test

import (
	"fmt"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/priority"
)

// Three tiers of 100 endpoints with 25, 25 and 20 healthy, panic off: Envoy's integer split.
func ExampleDistribute() {
	health := []priority.TierHealth{{Healthy: 25, Total: 100}, {Healthy: 25, Total: 100}, {Healthy: 20, Total: 100}}
	l := priority.Distribute(health, priority.LoadOptions{DisablePanic: true})
	fmt.Println("availability", l.Health, "NTA", l.NormalizedTotal)
	fmt.Println("load", l.Percent)
	// Output:
	// availability [35 35 28] NTA 98
	// load [37 35 28]
}

// A rollout in the client's zone: one new endpoint is ready, two old ones are still serving
// while they terminate, the rest of the zone is gone. Healthy endpoints of both tiers come
// first; the terminating ones (degraded) take what the healthy ones cannot.
func ExampleNewPlan() {
	zone := func(z string) model.Locality { return model.Locality{Network: "n1", Region: "r1", Zone: z} }
	eps := []model.Endpoint{
		{Address: "10.0.0.1", Locality: zone("a"), Ready: true, Serving: true},
		{Address: "10.0.0.2", Locality: zone("a"), Serving: true, Terminating: true},
		{Address: "10.0.0.3", Locality: zone("a"), Serving: true, Terminating: true},
		{Address: "10.0.0.4", Locality: zone("a")},
		{Address: "10.0.0.5", Locality: zone("a")},
		{Address: "10.0.1.1", Locality: zone("b"), Ready: true, Serving: true},
		{Address: "10.0.1.2", Locality: zone("b")},
		{Address: "10.0.1.3", Locality: zone("b")},
		{Address: "10.0.1.4", Locality: zone("b")},
		{Address: "10.0.1.5", Locality: zone("b")},
	}
	client := priority.Client{Locality: zone("a")}
	tiers, err := priority.Assign(eps, client, model.Distribution{Mode: model.ModePreferClose})
	if err != nil {
		panic(err)
	}
	p := priority.NewPlan(eps, tiers, nil, priority.LoadOptions{})
	fmt.Println("healthy", p.Load.Percent, "degraded", p.Load.DegradedPercent)
	src := priority.NewSplitMix(1)
	picker := priority.NewLeastRequest(src)
	counts := map[string]int{}
	for range 10_000 {
		i, _ := p.Pick(src, picker, nil)
		counts[eps[i].Address]++
	}
	fmt.Println(counts)
	// Output:
	// healthy [28 28] degraded [44 0]
	// map[10.0.0.1:2839 10.0.0.2:2275 10.0.0.3:2162 10.0.1.1:2724]
}
