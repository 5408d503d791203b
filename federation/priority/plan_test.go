package priority

import (
	"fmt"
	"slices"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
)

// layered builds endpoints and their tiers from (total, healthy, degraded) per tier: in each
// tier the first endpoints are healthy, the next degraded (serving and terminating) and the rest
// unready.
func layered(counts ...[3]int) ([]model.Endpoint, Tiers) {
	var (
		eps []model.Endpoint
		of  []int
	)
	tierCounts := make([]int, len(counts))
	for tier, c := range counts {
		for k := range c[0] {
			e := model.Endpoint{Address: fmt.Sprintf("10.%d.0.%d", tier, k)}
			switch {
			case k < c[1]:
				e.Ready, e.Serving = true, true
			case k < c[1]+c[2]:
				e.Serving, e.Terminating = true, true
			}
			eps = append(eps, e)
			of = append(of, tier)
		}
		tierCounts[tier] = c[0]
	}
	return eps, group(of, tierCounts)
}

// twoTiers returns endpoints of two networks: n0 in n1 (the client's) with h0 healthy, then n1
// in n2 with h1 healthy, with their tiers under PreferNetwork.
func twoTiers(t *testing.T, n0, h0, n1, h1 int) ([]model.Endpoint, Tiers) {
	t.Helper()
	eps := append(withHealth(n0, h0), withHealth(n1, h1)...)
	for i := range eps {
		eps[i].Locality.Network = "n1"
		if i >= n0 {
			eps[i].Locality.Network = "n2"
		}
	}
	tiers, err := Assign(eps, Client{Locality: model.Locality{Network: "n1"}}, model.Distribution{Mode: model.ModePreferNetwork})
	if err != nil {
		t.Fatal(err)
	}
	return eps, tiers
}

// TestPlanChooseTier walks the healthy loads first, then the degraded ones, as Envoy's
// choosePriority.
func TestPlanChooseTier(t *testing.T) {
	p := &Plan{Load: Load{Percent: []uint32{60, 0, 10}, DegradedPercent: []uint32{0, 25, 5}}}
	for r := uint64(0); r < 300; r++ {
		got, ok := p.ChooseTier(r)
		var want Choice
		switch draw := r%100 + 1; {
		case draw <= 60:
			want = Choice{Tier: 0}
		case draw <= 70:
			want = Choice{Tier: 2}
		case draw <= 95:
			want = Choice{Tier: 1, Degraded: true}
		default:
			want = Choice{Tier: 2, Degraded: true}
		}
		if !ok || got != want {
			t.Fatalf("ChooseTier(%d) = %+v, %v; want %+v", r, got, ok, want)
		}
	}
	if _, ok := (&Plan{}).ChooseTier(5); ok {
		t.Error("ChooseTier on no tiers succeeded")
	}
}

func TestPlanCandidates(t *testing.T) {
	tests := []struct {
		name       string
		counts     [][3]int
		ejected    Ejected
		opts       LoadOptions
		healthy    [][]int
		degraded   [][]int
		wantPanics []bool
	}{
		{"healthy only when not in panic", [][3]int{{4, 2, 0}, {4, 4, 0}}, nil, LoadOptions{},
			[][]int{{0, 1}, {4, 5, 6, 7}}, [][]int{nil, nil}, []bool{false, false}},
		{"degraded apart from healthy", [][3]int{{4, 1, 2}, {4, 4, 0}}, nil, LoadOptions{},
			[][]int{{0}, {4, 5, 6, 7}}, [][]int{{1, 2}, nil}, []bool{false, false}},
		{"total panic: all hosts in both sets", [][3]int{{4, 1, 0}, {4, 0, 1}}, nil, LoadOptions{},
			[][]int{{0, 1, 2, 3}, {4, 5, 6, 7}}, [][]int{{0, 1, 2, 3}, {4, 5, 6, 7}}, []bool{true, true}},
		{"partial panic: only the panicking tier", [][3]int{{10, 1, 0}, {10, 6, 0}}, nil, LoadOptions{},
			[][]int{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {10, 11, 12, 13, 14, 15}},
			[][]int{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, nil}, []bool{true, false}},
		{"ejected endpoints are neither healthy nor degraded", [][3]int{{4, 2, 2}, {4, 4, 0}},
			func(i int) bool { return i == 0 || i == 2 || i == 6 }, LoadOptions{},
			[][]int{{1}, {4, 5, 7}}, [][]int{{3}, nil}, []bool{false, false}},
		{"panic disabled, all down", [][3]int{{2, 0, 0}, {2, 0, 0}}, nil, LoadOptions{DisablePanic: true},
			[][]int{nil, nil}, [][]int{nil, nil}, []bool{false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eps, tiers := layered(tt.counts...)
			p := NewPlan(eps, tiers, tt.ejected, tt.opts)
			if !slices.Equal(p.Load.Panic, tt.wantPanics) {
				t.Fatalf("panic = %v, want %v", p.Load.Panic, tt.wantPanics)
			}
			for tier := range tt.healthy {
				if got := p.Tier(tier).Indices(); !slices.Equal(got, tt.healthy[tier]) {
					t.Errorf("tier %d healthy candidates = %v, want %v", tier, got, tt.healthy[tier])
				}
				if got := p.DegradedTier(tier).Indices(); !slices.Equal(got, tt.degraded[tier]) {
					t.Errorf("tier %d degraded candidates = %v, want %v", tier, got, tt.degraded[tier])
				}
			}
		})
	}
}

// pickShares picks n times and returns the share of picks per (tier, healthy/degraded/other)
// class of the picked endpoint.
func pickShares(t *testing.T, eps []model.Endpoint, tiers Tiers, p *Plan, n int) map[string]float64 {
	t.Helper()
	src := NewSplitMix(11)
	pk := NewLeastRequest(src)
	in := make(counters, len(eps))
	counts := map[string]int{}
	for range n {
		i, ok := p.Pick(src, pk, in)
		if !ok {
			t.Fatal("Pick found nothing")
		}
		class := "unhealthy"
		switch {
		case eps[i].Healthy():
			class = "healthy"
		case eps[i].Degraded():
			class = "degraded"
		}
		counts[fmt.Sprintf("%d %s", tiers.Of[i], class)]++
	}
	out := map[string]float64{}
	for k, c := range counts {
		out[k] = float64(c) / float64(n)
	}
	return out
}

// TestPlanPick checks the realized split of many picks against the computed load, within one
// point (100,000 picks from a fixed seed).
func TestPlanPick(t *testing.T) {
	tests := []struct {
		name   string
		counts [][3]int
		want   map[string]float64
	}{
		{"P0 50% healthy → 70/30", [][3]int{{10, 5, 0}, {10, 10, 0}}, map[string]float64{"0 healthy": .70, "1 healthy": .30}},
		{"P0 25% healthy → 35/65", [][3]int{{20, 5, 0}, {10, 10, 0}}, map[string]float64{"0 healthy": .35, "1 healthy": .65}},
		{"P0 fully healthy", [][3]int{{10, 10, 0}, {10, 10, 0}}, map[string]float64{"0 healthy": 1}},
		// Total panic: by count, 75/25, over all endpoints of each tier.
		{"total panic → by count", [][3]int{{30, 3, 0}, {10, 1, 0}},
			map[string]float64{"0 healthy": .075, "0 unhealthy": .675, "1 healthy": .025, "1 unhealthy": .225}},
		// Envoy's GentleFailoverWithExtraLevels "spill into degraded": healthy 0/0/28, degraded 28/44/0.
		{"spill into degraded", [][3]int{{5, 0, 1}, {5, 0, 5}, {5, 1, 0}},
			map[string]float64{"0 degraded": .28, "1 degraded": .44, "2 healthy": .28}},
		// Healthy endpoints of every tier come before degraded ones: tier 1 takes what it can.
		{"healthy failover before degraded", [][3]int{{5, 1, 2}, {5, 5, 0}},
			map[string]float64{"0 healthy": .28, "1 healthy": .72}},
		// Degraded endpoints take what the healthy ones of every tier cannot: healthy 28/28,
		// then 44 of tier 0's degraded availability 56.
		{"degraded take the rest", [][3]int{{5, 1, 2}, {5, 1, 0}},
			map[string]float64{"0 healthy": .28, "1 healthy": .28, "0 degraded": .44}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eps, tiers := layered(tt.counts...)
			p := NewPlan(eps, tiers, nil, LoadOptions{})
			got := pickShares(t, eps, tiers, p, 100_000)
			for k := range got {
				if _, ok := tt.want[k]; !ok {
					tt.want[k] = 0
				}
			}
			for k, w := range tt.want {
				if g := got[k]; g < w-0.01 || g > w+0.01 {
					t.Errorf("share of %s = %.4f, want %.2f (all: %v, load %v/%v)", k, g, w, got, p.Load.Percent, p.Load.DegradedPercent)
				}
			}
		})
	}
}

func TestPlanPickNothing(t *testing.T) {
	eps, tiers := twoTiers(t, 2, 0, 2, 0)
	p := NewPlan(eps, tiers, nil, LoadOptions{DisablePanic: true})
	if i, ok := p.Pick(NewSplitMix(1), RoundRobin{}, nil); ok {
		t.Errorf("Pick with every endpoint down and panic off = %d", i)
	}
	empty := NewPlan(nil, Tiers{}, nil, LoadOptions{})
	if i, ok := empty.Pick(NewSplitMix(1), RoundRobin{}, nil); ok {
		t.Errorf("Pick on no endpoints = %d", i)
	}
}

// TestPlanEnvoyCorner: when every share is 0 (see Distribute), a pick goes to tier 0's healthy
// endpoints as in Envoy: none here, all of tier 0 when tier 0 panics.
func TestPlanEnvoyCorner(t *testing.T) {
	opts := LoadOptions{OverprovisioningFactor: 30, PanicThreshold: 1}
	eps, tiers := layered([3]int{97, 0, 1})
	p := NewPlan(eps, tiers, nil, opts)
	if c, ok := p.ChooseTier(99); !ok || c != (Choice{Tier: 0}) {
		t.Errorf("ChooseTier = %+v, %v; want tier 0 healthy", c, ok)
	}
	if i, ok := p.Pick(NewSplitMix(1), RoundRobin{}, nil); ok {
		t.Errorf("Pick = %d with no healthy endpoint in tier 0", i)
	}
	eps, tiers = layered([3]int{200, 0, 1}, [3]int{97, 0, 1})
	p = NewPlan(eps, tiers, nil, opts)
	if !slices.Equal(p.Load.Panic, []bool{true, false}) {
		t.Fatalf("panic = %v", p.Load.Panic)
	}
	if i, ok := p.Pick(NewSplitMix(1), RoundRobin{}, nil); !ok || tiers.Of[i] != 0 {
		t.Errorf("Pick = %d, %v; want an endpoint of tier 0 (in panic)", i, ok)
	}
}

// TestPlanChoicesAreServable is Envoy's PrioritySelectionFuzz made exhaustive: for every two-
// tier configuration of up to 5 endpoints and every draw, the chosen set is non-empty (unless
// nothing is healthy or degraded and panic is off), and outside panic a healthy choice holds
// only healthy endpoints and a degraded choice only degraded ones.
func TestPlanChoicesAreServable(t *testing.T) {
	for _, opts := range []LoadOptions{{}, {DisablePanic: true}} {
		err := forEachConfig(tierStates(5), 2, func(h []TierHealth) error {
			counts := make([][3]int, len(h))
			for i, th := range h {
				if th.Total == 0 {
					return nil // Assign never makes an empty tier
				}
				counts[i] = [3]int{th.Total, th.Healthy, th.Degraded}
			}
			eps, tiers := layered(counts...)
			p := NewPlan(eps, tiers, nil, opts)
			for r := range uint64(100) {
				c, ok := p.ChooseTier(r)
				if !ok {
					return fmt.Errorf("%v: no choice", counts)
				}
				if err := checkChoice(eps, p, c, opts); err != nil {
					return fmt.Errorf("%v %+v draw %d: %w", counts, opts, r, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// checkChoice checks one choice of TestPlanChoicesAreServable.
func checkChoice(eps []model.Endpoint, p *Plan, c Choice, opts LoadOptions) error {
	cands := p.Candidates(c).Indices()
	if len(cands) == 0 {
		if opts.DisablePanic && p.Load.NormalizedTotal == 0 {
			return nil
		}
		return fmt.Errorf("choice %+v has no candidate (load %+v)", c, p.Load)
	}
	if p.Load.Panic[c.Tier] {
		return nil
	}
	for _, i := range cands {
		if c.Degraded != eps[i].Degraded() || !c.Degraded != eps[i].Healthy() {
			return fmt.Errorf("choice %+v holds endpoint %d %+v", c, i, eps[i])
		}
	}
	return nil
}
