package priority

import (
	"slices"
	"testing"
)

// pct builds tiers of 100 endpoints with the given healthy percentages.
func pct(healthy ...int) []TierHealth {
	out := make([]TierHealth, len(healthy))
	for i, h := range healthy {
		out[i] = TierHealth{Healthy: h, Total: 100}
	}
	return out
}

func TestDistributeEnvoyTables(t *testing.T) {
	tests := []struct {
		name   string
		health []TierHealth
		opts   LoadOptions
		want   []uint32
		panic  []bool
	}{
		// Envoy "priority levels" table, P=1 fully healthy.
		{"P0 100%", pct(100, 100), LoadOptions{}, []uint32{100, 0}, []bool{false, false}},
		{"P0 72%", pct(72, 100), LoadOptions{}, []uint32{100, 0}, []bool{false, false}},
		{"P0 71%", pct(71, 100), LoadOptions{}, []uint32{99, 1}, []bool{false, false}},
		{"P0 50%", pct(50, 100), LoadOptions{}, []uint32{70, 30}, []bool{false, false}},
		{"P0 25%", pct(25, 100), LoadOptions{}, []uint32{35, 65}, []bool{false, false}},
		{"P0 0%", pct(0, 100), LoadOptions{}, []uint32{0, 100}, []bool{false, false}},
		// Both 25%: NTA 70 < 100, both below 50% → total panic → by count 50/50.
		{"both 25%", pct(25, 25), LoadOptions{}, []uint32{50, 50}, []bool{true, true}},
		{"both 25% panic off", pct(25, 25), LoadOptions{DisablePanic: true}, []uint32{50, 50}, []bool{false, false}},
		{"both 50%", pct(50, 50), LoadOptions{}, []uint32{70, 30}, []bool{false, false}},
		{"both 71%", pct(71, 71), LoadOptions{}, []uint32{99, 1}, []bool{false, false}},
		{"25/25/100", pct(25, 25, 100), LoadOptions{}, []uint32{35, 35, 30}, []bool{false, false, false}},
		// Envoy's docs table says 36/36/28; Envoy's distributeLoad computes 35+35+28 = 98 and
		// gives the remaining 2 to the first healthy tier.
		{"25/25/20 panic off", pct(25, 25, 20), LoadOptions{DisablePanic: true}, []uint32{36, 36, 28}, []bool{false, false, false}},
		// With the default threshold every tier panics: split by count (100 each).
		{"25/25/20", pct(25, 25, 20), LoadOptions{}, []uint32{34, 33, 33}, []bool{true, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Distribute(tt.health, tt.opts)
			if !slices.Equal(got.Percent, tt.want) || !slices.Equal(got.Panic, tt.panic) {
				t.Errorf("Distribute = %v panic %v, want %v panic %v", got.Percent, got.Panic, tt.want, tt.panic)
			}
		})
	}
}

// TestDistributeEnvoyUnitCases mirrors cases of Envoy's LoadBalancerBaseTest (GentleFailover,
// GentleFailoverWithExtraLevels, OverProvisioningFactor), with small host counts.
func TestDistributeEnvoyUnitCases(t *testing.T) {
	h := func(pairs ...int) []TierHealth {
		var out []TierHealth
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, TierHealth{Total: pairs[i], Healthy: pairs[i+1]})
		}
		return out
	}
	tests := []struct {
		name       string
		health     []TierHealth
		opts       LoadOptions
		want       []uint32
		panic      []bool
		totalPanic bool
	}{
		{"2/1 2/1", h(2, 1, 2, 1), LoadOptions{}, []uint32{70, 30}, []bool{false, false}, false},
		{"4/1 2/2", h(4, 1, 2, 2), LoadOptions{}, []uint32{35, 65}, []bool{false, false}, false},
		{"4/1 4/1", h(4, 1, 4, 1), LoadOptions{}, []uint32{50, 50}, []bool{true, true}, true},
		{"5/1 x3 scaled", h(5, 1, 5, 1, 5, 1), LoadOptions{}, []uint32{34, 33, 33}, []bool{true, true, true}, true},
		{"5/1 x3 panic off", h(5, 1, 5, 1, 5, 1), LoadOptions{DisablePanic: true}, []uint32{34, 33, 33}, []bool{false, false, false}, false},
		{"down down up", h(5, 0, 5, 0, 5, 5), LoadOptions{}, []uint32{0, 0, 100}, []bool{false, false, false}, false},
		{"down down 80%", h(5, 0, 5, 0, 5, 4), LoadOptions{}, []uint32{0, 0, 100}, []bool{false, false, false}, false},
		{"down down 40%: total panic", h(5, 0, 5, 0, 5, 2), LoadOptions{}, []uint32{34, 33, 33}, []bool{true, true, true}, true},
		{"all down 5/3/2", h(5, 0, 3, 0, 2, 0), LoadOptions{}, []uint32{50, 30, 20}, []bool{true, true, true}, true},
		{"count rounding 5/6/3", h(5, 0, 6, 2, 3, 1), LoadOptions{}, []uint32{37, 42, 21}, []bool{true, true, true}, true},
		{"all down, panic off: tier 0", h(3, 0, 3, 0), LoadOptions{DisablePanic: true}, []uint32{100, 0}, []bool{false, false}, false},
		{"factor 100", h(4, 2, 4, 2), LoadOptions{OverprovisioningFactor: 100}, []uint32{50, 50}, []bool{false, false}, false},
		// Partial panic: health 14 + 84 = NTA 98; 1400/98 = 14, 8400/98 = 85, remainder 1 → P0.
		// Only P0 (10% healthy) is under the 50% threshold. Health 14/84, NTA 98: the exact
		// shares are 14.3/85.7; Envoy's code floors them and gives the rest to P0 (15/85), we
		// round to nearest (14/86) — see Distribute.
		{"partial panic", h(10, 1, 10, 6), LoadOptions{}, []uint32{14, 86}, []bool{true, false}, false},
		{"threshold 10", h(10, 1, 10, 6), LoadOptions{PanicThreshold: 10}, []uint32{14, 86}, []bool{false, false}, false},
		// A threshold above 100 is read as 100: both tiers panic, load follows counts.
		{"threshold 200 capped", h(10, 1, 10, 6), LoadOptions{PanicThreshold: 200}, []uint32{50, 50}, []bool{true, true}, true},
		{"single tier healthy", h(3, 3), LoadOptions{}, []uint32{100}, []bool{false}, false},
		{"single tier 1 of 3: panic", h(3, 1), LoadOptions{}, []uint32{100}, []bool{true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Distribute(tt.health, tt.opts)
			if !slices.Equal(got.Percent, tt.want) || !slices.Equal(got.Panic, tt.panic) || got.TotalPanic != tt.totalPanic {
				t.Errorf("Distribute = %v panic %v total %v; want %v panic %v total %v",
					got.Percent, got.Panic, got.TotalPanic, tt.want, tt.panic, tt.totalPanic)
			}
		})
	}
}

func TestDistributeHealthScores(t *testing.T) {
	got := Distribute(pct(71, 25, 0), LoadOptions{})
	if !slices.Equal(got.Health, []uint32{99, 35, 0}) || got.NormalizedTotal != 100 {
		t.Errorf("Health = %v NTA %d, want [99 35 0] NTA 100", got.Health, got.NormalizedTotal)
	}
}

func TestDistributeEmpty(t *testing.T) {
	got := Distribute(nil, LoadOptions{})
	if len(got.Percent) != 0 || got.TotalPanic {
		t.Errorf("Distribute(nil) = %+v", got)
	}
}
