package priority

import (
	"slices"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
)

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

func TestPlanChooseTier(t *testing.T) {
	p := &Plan{Load: Load{Percent: []uint32{70, 0, 30}}}
	for r := uint64(0); r < 300; r++ {
		got, ok := p.ChooseTier(r)
		want := 0
		if r%100 >= 70 {
			want = 2
		}
		if !ok || got != want {
			t.Fatalf("ChooseTier(%d) = %d, %v; want %d", r, got, ok, want)
		}
	}
	if _, ok := (&Plan{}).ChooseTier(5); ok {
		t.Error("ChooseTier on no tiers succeeded")
	}
}

func TestPlanCandidates(t *testing.T) {
	tests := []struct {
		name           string
		n0, h0, n1, h1 int
		ejected        Ejected
		opts           LoadOptions
		want0, want1   []int
	}{
		{"healthy only when not in panic", 4, 2, 4, 4, nil, LoadOptions{}, []int{0, 1}, []int{4, 5, 6, 7}},
		{"total panic: all hosts", 4, 1, 4, 1, nil, LoadOptions{}, []int{0, 1, 2, 3}, []int{4, 5, 6, 7}},
		{"partial panic: only the panicking tier", 10, 1, 10, 6, nil, LoadOptions{},
			[]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, []int{10, 11, 12, 13, 14, 15}},
		{"ejected endpoints are unhealthy", 4, 4, 4, 4, func(i int) bool { return i == 1 || i == 6 }, LoadOptions{},
			[]int{0, 2, 3}, []int{4, 5, 7}},
		{"panic disabled, all down", 2, 0, 2, 0, nil, LoadOptions{DisablePanic: true}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eps, tiers := twoTiers(t, tt.n0, tt.h0, tt.n1, tt.h1)
			p := NewPlan(eps, tiers, tt.ejected, tt.opts)
			if got := p.Tier(0).Indices(); !slices.Equal(got, tt.want0) {
				t.Errorf("tier 0 candidates = %v, want %v", got, tt.want0)
			}
			if got := p.Tier(1).Indices(); !slices.Equal(got, tt.want1) {
				t.Errorf("tier 1 candidates = %v, want %v", got, tt.want1)
			}
		})
	}
}

func TestPlanPick(t *testing.T) {
	tests := []struct {
		name           string
		n0, h0, n1, h1 int
		wantTier0      float64
		unhealthyOK    bool
	}{
		{"P0 50% healthy → 70/30", 10, 5, 10, 10, 0.70, false},
		{"P0 25% healthy → 35/65", 20, 5, 10, 10, 0.35, false},
		{"P0 fully healthy", 10, 10, 10, 10, 1, false},
		{"total panic → by count", 30, 3, 10, 1, 0.75, true},
	}
	const n = 100_000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eps, tiers := twoTiers(t, tt.n0, tt.h0, tt.n1, tt.h1)
			p := NewPlan(eps, tiers, nil, LoadOptions{})
			src := NewSplitMix(11)
			pk := NewLeastRequest(src)
			in := make(counters, len(eps))
			tier0 := 0
			for range n {
				i, ok := p.Pick(src, pk, in)
				if !ok {
					t.Fatal("Pick found nothing")
				}
				if !tt.unhealthyOK && !eps[i].Healthy() {
					t.Fatalf("picked unhealthy endpoint %d outside panic", i)
				}
				if tiers.Of[i] == 0 {
					tier0++
				}
			}
			if got := float64(tier0) / n; got < tt.wantTier0-0.01 || got > tt.wantTier0+0.01 {
				t.Errorf("tier 0 share = %.4f, want %.2f", got, tt.wantTier0)
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
