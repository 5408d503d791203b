package priority

import (
	"slices"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
)

// tiers builds TierHealth from (total, healthy, degraded) triples, as Envoy's updateHostSet takes
// them.
func tiers(triples ...[3]int) []TierHealth {
	out := make([]TierHealth, len(triples))
	for i, tr := range triples {
		out[i] = TierHealth{Total: tr[0], Healthy: tr[1], Degraded: tr[2]}
	}
	return out
}

// envoyCase is one assertion of Envoy's LoadBalancerBaseTest: the host sets after a series of
// updateHostSet calls and what Envoy asserts then. A nil want field is not asserted there.
type envoyCase struct {
	name         string
	health       []TierHealth
	opts         LoadOptions
	want         []uint32
	wantDegraded []uint32
	wantPanic    []bool
}

// envoyCases are the load and panic vectors of Envoy's
// test/extensions/load_balancing_policies/common/load_balancer_impl_base_test.cc (formerly
// test/common/upstream/load_balancer_impl_test.cc), named <test>/<step>. Steps with excluded
// hosts (GentleFailover 5-7) are left out: meshfed has no excluded endpoints.
var envoyCases = []envoyCase{
	{name: "PrioritySelection/1 both in panic", health: tiers([3]int{1, 0, 0}, [3]int{1, 0, 0}), want: []uint32{50, 50}},
	{name: "PrioritySelection/2 failover grows", health: tiers([3]int{1, 0, 0}, [3]int{2, 0, 0}), want: []uint32{34, 66}},
	{name: "PrioritySelection/3 healthy P=2", health: tiers([3]int{1, 0, 0}, [3]int{2, 0, 0}, [3]int{1, 1, 0}), want: []uint32{0, 0, 100}},
	{name: "PrioritySelection/4 healthy P=0", health: tiers([3]int{1, 1, 0}, [3]int{2, 0, 0}, [3]int{1, 1, 0}), want: []uint32{100, 0, 0}},
	{name: "OverProvisioningFactor/default", health: tiers([3]int{4, 2, 0}, [3]int{4, 2, 0}), want: []uint32{70, 30}},
	{name: "OverProvisioningFactor/100", health: tiers([3]int{4, 2, 0}, [3]int{4, 2, 0}), opts: LoadOptions{OverprovisioningFactor: 100},
		want: []uint32{50, 50}},
	{name: "GentleFailover/1", health: tiers([3]int{1, 1, 0}, [3]int{1, 1, 0}), want: []uint32{100, 0}, wantPanic: []bool{false, false}},
	{name: "GentleFailover/2", health: tiers([3]int{2, 1, 0}, [3]int{2, 1, 0}), want: []uint32{70, 30}, wantPanic: []bool{false, false}},
	{name: "GentleFailover/3", health: tiers([3]int{4, 1, 0}, [3]int{2, 2, 0}), want: []uint32{35, 65}, wantPanic: []bool{false, false}},
	{name: "GentleFailover/4", health: tiers([3]int{4, 1, 0}, [3]int{4, 1, 0}), want: []uint32{50, 50}, wantPanic: []bool{true, true}},
	{name: "GentleFailoverWithExtraLevels/1", health: tiers([3]int{1, 1, 0}, [3]int{1, 1, 0}, [3]int{1, 1, 0}),
		want: []uint32{100, 0, 0}, wantPanic: []bool{false, false, false}},
	{name: "GentleFailoverWithExtraLevels/2", health: tiers([3]int{2, 1, 0}, [3]int{2, 1, 0}, [3]int{2, 1, 0}),
		want: []uint32{70, 30, 0}, wantDegraded: []uint32{0, 0, 0}},
	{name: "GentleFailoverWithExtraLevels/3", health: tiers([3]int{4, 1, 0}, [3]int{2, 2, 0}, [3]int{2, 1, 0}),
		want: []uint32{35, 65, 0}, wantDegraded: []uint32{0, 0, 0}},
	{name: "GentleFailoverWithExtraLevels/4", health: tiers([3]int{4, 1, 0}, [3]int{4, 1, 0}, [3]int{4, 1, 0}),
		want: []uint32{35, 35, 30}, wantDegraded: []uint32{0, 0, 0}},
	{name: "GentleFailoverWithExtraLevels/6 scaled, P=0 takes the rounding", health: tiers([3]int{5, 1, 0}, [3]int{5, 1, 0}, [3]int{5, 1, 0}),
		want: []uint32{34, 33, 33}, wantDegraded: []uint32{0, 0, 0}, wantPanic: []bool{true, true, true}},
	{name: "GentleFailoverWithExtraLevels/7 P=2 healthy", health: tiers([3]int{5, 0, 0}, [3]int{5, 0, 0}, [3]int{5, 5, 0}),
		want: []uint32{0, 0, 100}, wantDegraded: []uint32{0, 0, 0}, wantPanic: []bool{false, false, false}},
	{name: "GentleFailoverWithExtraLevels/8 P=2 80%", health: tiers([3]int{5, 0, 0}, [3]int{5, 0, 0}, [3]int{5, 4, 0}),
		want: []uint32{0, 0, 100}, wantDegraded: []uint32{0, 0, 0}, wantPanic: []bool{false, false, false}},
	{name: "GentleFailoverWithExtraLevels/9 P=2 40%: total panic", health: tiers([3]int{5, 0, 0}, [3]int{5, 0, 0}, [3]int{5, 2, 0}),
		want: []uint32{34, 33, 33}, wantDegraded: []uint32{0, 0, 0}, wantPanic: []bool{true, true, true}},
	{name: "GentleFailoverWithExtraLevels/10 P=0 degraded", health: tiers([3]int{5, 0, 5}, [3]int{5, 2, 2}, [3]int{5, 2, 0}),
		want: []uint32{0, 56, 44}, wantDegraded: []uint32{0, 0, 0}, wantPanic: []bool{false, false, false}},
	{name: "GentleFailoverWithExtraLevels/11 all down", health: tiers([3]int{5, 0, 0}, [3]int{3, 0, 0}, [3]int{2, 0, 0}),
		want: []uint32{50, 30, 20}, wantDegraded: []uint32{0, 0, 0}, wantPanic: []bool{true, true, true}},
	{name: "GentleFailoverWithExtraLevels/12 count rounding", health: tiers([3]int{5, 0, 0}, [3]int{6, 2, 0}, [3]int{3, 1, 0}),
		want: []uint32{37, 42, 21}, wantDegraded: []uint32{0, 0, 0}, wantPanic: []bool{true, true, true}},
	{name: "GentleFailoverWithExtraLevels/13 spill into degraded", health: tiers([3]int{5, 0, 1}, [3]int{5, 0, 5}, [3]int{5, 1, 0}),
		want: []uint32{0, 0, 28}, wantDegraded: []uint32{28, 44, 0}},
	{name: "GentleFailoverWithExtraLevels/14 rounding to first degraded, panic off",
		health: tiers([3]int{5, 0, 0}, [3]int{5, 0, 2}, [3]int{5, 0, 1}), opts: LoadOptions{DisablePanic: true},
		want: []uint32{0, 0, 0}, wantDegraded: []uint32{0, 67, 33}},
	{name: "GentleFailoverWithExtraLevels/15 degraded only: total panic", health: tiers([3]int{5, 0, 0}, [3]int{5, 0, 2}, [3]int{5, 0, 1}),
		want: []uint32{34, 33, 33}, wantDegraded: []uint32{0, 0, 0}},
	{name: "GentleFailoverWithExtraLevels/16 rounding to non-empty P=0", health: tiers([3]int{3, 0, 0}, [3]int{3, 0, 0}, [3]int{3, 0, 0}),
		want: []uint32{34, 33, 33}, wantPanic: []bool{true, true, true}},
	{name: "GentleFailoverWithExtraLevels/17 rounding to non-empty P=1", health: tiers([3]int{0, 0, 0}, [3]int{6, 0, 0}, [3]int{3, 0, 0}),
		want: []uint32{0, 67, 33}, wantPanic: []bool{true, true, true}},
}

// TestDistributeEnvoyUnitTests checks Distribute against the vectors of Envoy's own unit tests.
func TestDistributeEnvoyUnitTests(t *testing.T) {
	for _, tt := range envoyCases {
		t.Run(tt.name, func(t *testing.T) {
			got := Distribute(tt.health, tt.opts)
			if !slices.Equal(got.Percent, tt.want) {
				t.Errorf("healthy load = %v, want %v", got.Percent, tt.want)
			}
			if tt.wantDegraded != nil && !slices.Equal(got.DegradedPercent, tt.wantDegraded) {
				t.Errorf("degraded load = %v, want %v", got.DegradedPercent, tt.wantDegraded)
			}
			if tt.wantPanic != nil && !slices.Equal(got.Panic, tt.wantPanic) {
				t.Errorf("panic = %v, want %v", got.Panic, tt.wantPanic)
			}
			checkLoad(t, got, len(tt.health))
		})
	}
}

// TestDistributeCases covers what Envoy's unit tests do not assert; every expectation was
// computed by hand and agrees with the transcription in envoy_test.go.
func TestDistributeCases(t *testing.T) {
	tests := []struct {
		name       string
		health     []TierHealth
		opts       LoadOptions
		want       []uint32
		degraded   []uint32
		panic      []bool
		totalPanic bool
	}{
		// Issue 18: health 35/35/28, NTA 98, floored shares 35/35/28, the remaining 2 to P=0.
		// (Envoy's documentation table shows 36/36/28; its code computes this.)
		{"25/25/20 percent healthy, panic off", tiers([3]int{100, 25, 0}, [3]int{100, 25, 0}, [3]int{100, 20, 0}),
			LoadOptions{DisablePanic: true}, []uint32{37, 35, 28}, []uint32{0, 0, 0}, []bool{false, false, false}, false},
		{"25/25/20 percent healthy: total panic", tiers([3]int{100, 25, 0}, [3]int{100, 25, 0}, [3]int{100, 20, 0}),
			LoadOptions{}, []uint32{34, 33, 33}, []uint32{0, 0, 0}, []bool{true, true, true}, true},
		// Health 14 + 84 = NTA 98: floored 14/85, the remaining 1 to P=0. Only P=0 (10 %) panics.
		{"partial panic", tiers([3]int{10, 1, 0}, [3]int{10, 6, 0}), LoadOptions{},
			[]uint32{15, 85}, []uint32{0, 0}, []bool{true, false}, false},
		{"threshold 10", tiers([3]int{10, 1, 0}, [3]int{10, 6, 0}), LoadOptions{PanicThreshold: 10},
			[]uint32{15, 85}, []uint32{0, 0}, []bool{false, false}, false},
		{"threshold 200 is 100", tiers([3]int{10, 1, 0}, [3]int{10, 6, 0}), LoadOptions{PanicThreshold: 200},
			[]uint32{50, 50}, []uint32{0, 0}, []bool{true, true}, true},
		// Degraded hosts count against panic: 1 healthy + 4 degraded of 10 is 50 %, not in panic.
		// Availability 14+56 and 14, NTA 84: healthy 16/16, degraded 66, the remaining 2 to P=0.
		{"degraded keep a tier out of panic", tiers([3]int{10, 1, 4}, [3]int{10, 1, 0}), LoadOptions{},
			[]uint32{18, 16}, []uint32{66, 0}, []bool{false, true}, false},
		// A panicking tier keeps its degraded load (its picks then use all its endpoints).
		// Availability 14+14 and 70, NTA 98: healthy 14/71, degraded 14, the remaining 1 to P=0.
		{"degraded load on a panicking tier", tiers([3]int{10, 1, 1}, [3]int{10, 5, 0}), LoadOptions{},
			[]uint32{15, 71}, []uint32{14, 0}, []bool{true, false}, false},
		{"all down, panic off: tier 0", tiers([3]int{3, 0, 0}, [3]int{3, 0, 0}), LoadOptions{DisablePanic: true},
			[]uint32{100, 0}, []uint32{0, 0}, []bool{false, false}, false},
		{"single tier healthy", tiers([3]int{3, 3, 0}), LoadOptions{}, []uint32{100}, []uint32{0}, []bool{false}, false},
		{"single tier 1 of 3: panic", tiers([3]int{3, 1, 0}), LoadOptions{}, []uint32{100}, []uint32{0}, []bool{true}, true},
		{"single tier all degraded", tiers([3]int{3, 0, 3}), LoadOptions{}, []uint32{0}, []uint32{100}, []bool{false}, false},
		{"no endpoints at all", tiers([3]int{0, 0, 0}), LoadOptions{}, []uint32{100}, []uint32{0}, []bool{true}, true},
		// Envoy's corner (found by FuzzDistribute): 30 × 1 / 97 floors to 0, yet 1 % is not below
		// a 1 % threshold. NTA 0, no total panic: Envoy leaves every share at 0.
		{"availability floored to 0 above the threshold", tiers([3]int{97, 0, 1}),
			LoadOptions{OverprovisioningFactor: 30, PanicThreshold: 1}, []uint32{0}, []uint32{0}, []bool{false}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Distribute(tt.health, tt.opts)
			if !slices.Equal(got.Percent, tt.want) || !slices.Equal(got.DegradedPercent, tt.degraded) ||
				!slices.Equal(got.Panic, tt.panic) || got.TotalPanic != tt.totalPanic {
				t.Errorf("Distribute = %v degraded %v panic %v total %v; want %v degraded %v panic %v total %v",
					got.Percent, got.DegradedPercent, got.Panic, got.TotalPanic, tt.want, tt.degraded, tt.panic, tt.totalPanic)
			}
			checkLoad(t, got, len(tt.health))
		})
	}
}

func TestDistributeAvailability(t *testing.T) {
	got := Distribute(tiers([3]int{100, 71, 0}, [3]int{100, 25, 10}, [3]int{4, 0, 1}), LoadOptions{})
	if !slices.Equal(got.Health, []uint32{99, 35, 0}) || !slices.Equal(got.DegradedHealth, []uint32{0, 14, 35}) ||
		got.NormalizedTotal != 100 {
		t.Errorf("Health = %v DegradedHealth = %v NTA %d, want [99 35 0] [0 14 35] NTA 100", got.Health, got.DegradedHealth, got.NormalizedTotal)
	}
	if got.Share(1) != got.Percent[1]+got.DegradedPercent[1] {
		t.Errorf("Share(1) = %d", got.Share(1))
	}
}

func TestDistributeEmpty(t *testing.T) {
	got := Distribute(nil, LoadOptions{})
	if len(got.Percent) != 0 || len(got.DegradedPercent) != 0 || got.TotalPanic {
		t.Errorf("Distribute(nil) = %+v", got)
	}
}

// TestDistributeCleansCounts: inconsistent counts are clamped rather than trusted.
func TestDistributeCleansCounts(t *testing.T) {
	got := Distribute([]TierHealth{{Total: 2, Healthy: 5, Degraded: 3}, {Total: -1, Healthy: -1, Degraded: -4}}, LoadOptions{})
	want := Distribute([]TierHealth{{Total: 2, Healthy: 2}, {}}, LoadOptions{})
	if !slices.Equal(got.Percent, want.Percent) || !slices.Equal(got.Health, want.Health) || !slices.Equal(got.Panic, want.Panic) {
		t.Errorf("Distribute(dirty) = %+v, want %+v", got, want)
	}
}

func TestLoadOptionsWith(t *testing.T) {
	u := func(v uint32) *uint32 { return &v }
	base := LoadOptions{OverprovisioningFactor: 120, PanicThreshold: 30}
	tests := []struct {
		name string
		p    *model.LoadPolicy
		want LoadOptions
	}{
		{"nil policy", nil, base},
		{"empty policy", &model.LoadPolicy{}, base},
		{"factor", &model.LoadPolicy{OverprovisioningFactor: u(200)}, LoadOptions{OverprovisioningFactor: 200, PanicThreshold: 30}},
		{"threshold", &model.LoadPolicy{PanicThreshold: u(70)}, LoadOptions{OverprovisioningFactor: 120, PanicThreshold: 70}},
		{"threshold 0 disables panic", &model.LoadPolicy{PanicThreshold: u(0)}, LoadOptions{OverprovisioningFactor: 120, DisablePanic: true}},
	}
	for _, tt := range tests {
		if got := base.With(tt.p); got != tt.want {
			t.Errorf("%s: With = %+v, want %+v", tt.name, got, tt.want)
		}
	}
	if got := (LoadOptions{DisablePanic: true}).With(&model.LoadPolicy{PanicThreshold: u(40)}); got.threshold() != 40 {
		t.Errorf("a policy threshold re-enables panic: %+v", got)
	}
}

func TestLoadOptionsEffective(t *testing.T) {
	tests := []struct {
		o                 LoadOptions
		factor, threshold uint32
	}{
		{LoadOptions{}, DefaultOverprovisioningFactor, DefaultPanicThreshold},
		{LoadOptions{OverprovisioningFactor: 200, PanicThreshold: 30}, 200, 30},
		{LoadOptions{PanicThreshold: 30, DisablePanic: true}, DefaultOverprovisioningFactor, 0},
		{LoadOptions{PanicThreshold: 500}, DefaultOverprovisioningFactor, 100},
	}
	for _, tt := range tests {
		if f, th := tt.o.Effective(); f != tt.factor || th != tt.threshold {
			t.Errorf("%+v: Effective = %d, %d; want %d, %d", tt.o, f, th, tt.factor, tt.threshold)
		}
	}
}
