package priority

import "github.com/meshfed/meshfed/federation/model"

// Defaults of LoadOptions, as in Envoy.
const (
	// DefaultOverprovisioningFactor is Envoy's default overprovisioning factor, in percent (1.4).
	DefaultOverprovisioningFactor = 140
	// DefaultPanicThreshold is Envoy's default healthy panic threshold, in percent.
	DefaultPanicThreshold = 50
)

// LoadOptions tune the load split across tiers. The zero value is Envoy's defaults.
type LoadOptions struct {
	// OverprovisioningFactor in percent; 0 means DefaultOverprovisioningFactor.
	OverprovisioningFactor uint32
	// PanicThreshold in percent, capped at 100; 0 means DefaultPanicThreshold.
	PanicThreshold uint32
	// DisablePanic turns panic mode off, as Envoy's threshold of 0%.
	DisablePanic bool
}

// With returns o with a service's policy applied on top: each field the policy sets replaces
// o's, and a panic threshold of 0 disables panic. A nil policy changes nothing.
func (o LoadOptions) With(p *model.LoadPolicy) LoadOptions {
	if p == nil {
		return o
	}
	if p.OverprovisioningFactor != nil {
		o.OverprovisioningFactor = *p.OverprovisioningFactor
	}
	if p.PanicThreshold != nil {
		o.PanicThreshold, o.DisablePanic = *p.PanicThreshold, *p.PanicThreshold == 0
	}
	return o
}

// Effective returns the overprovisioning factor and the panic threshold in force, in percent,
// defaults filled in; a threshold of 0 means panic is off.
func (o LoadOptions) Effective() (factor, threshold uint32) {
	return uint32(o.factor()), uint32(o.threshold())
}

// factor is the effective overprovisioning factor.
func (o LoadOptions) factor() uint64 {
	if o.OverprovisioningFactor == 0 {
		return DefaultOverprovisioningFactor
	}
	return uint64(o.OverprovisioningFactor)
}

// threshold is the effective panic threshold in percent; 0 means panic is off.
func (o LoadOptions) threshold() uint64 {
	switch {
	case o.DisablePanic:
		return 0
	case o.PanicThreshold == 0:
		return DefaultPanicThreshold
	case o.PanicThreshold > 100:
		return 100
	}
	return uint64(o.PanicThreshold)
}

// TierHealth counts one tier's endpoints, as Envoy counts a priority's hosts.
type TierHealth struct {
	// Healthy counts endpoints that are ready, serving, not terminating and not ejected.
	Healthy int
	// Degraded counts endpoints that are serving and terminating and not ejected.
	Degraded int
	// Total counts all endpoints of the tier.
	Total int
}

// clean clamps the counts to 0 ≤ Healthy, Degraded and Healthy + Degraded ≤ Total, which
// Tiers.Health always satisfies.
func (h TierHealth) clean() TierHealth {
	h.Total = max(h.Total, 0)
	h.Healthy = min(max(h.Healthy, 0), h.Total)
	h.Degraded = min(max(h.Degraded, 0), h.Total-h.Healthy)
	return h
}

// Load is how traffic splits across tiers, computed as Envoy computes priority load. A request
// goes to tier t's healthy endpoints with probability Percent[t] and to its degraded endpoints
// with probability DegradedPercent[t] (to all its endpoints when Panic[t]).
type Load struct {
	// Health is each tier's healthy availability in percent: min(100, factor × healthy / total).
	Health []uint32
	// DegradedHealth is each tier's degraded availability: min(100, factor × degraded / total).
	DegradedHealth []uint32
	// NormalizedTotal is min(100, Σ Health + Σ DegradedHealth), Envoy's normalized total
	// availability (NTA).
	NormalizedTotal uint32
	// Percent is each tier's share of traffic for its healthy endpoints (Envoy's healthy
	// priority load).
	Percent []uint32
	// DegradedPercent is each tier's share of traffic for its degraded endpoints (Envoy's
	// degraded priority load). Percent and DegradedPercent together sum to 100 when there is a
	// tier, except in the corner Distribute describes, where all are 0.
	DegradedPercent []uint32
	// Panic marks tiers that balance over all their endpoints, healthy or not.
	Panic []bool
	// TotalPanic reports that every tier panicked and Percent follows endpoint counts.
	TotalPanic bool
}

// Share is tier t's whole share of traffic, healthy and degraded.
func (l *Load) Share(t int) uint32 { return l.Percent[t] + l.DegradedPercent[t] }

// Distribute splits load across tiers exactly as Envoy does for a freshly built load balancer
// (source/common/upstream/load_balancer_impl.cc, now
// source/extensions/load_balancing_policies/common/load_balancer_impl.cc:
// recalculatePerPriorityState, recalculatePerPriorityPanic, recalculateLoadInTotalPanic), with
// Envoy's integer arithmetic:
//
//	health(P)   = min(100, factor × healthy(P) / total(P))      integer division, 0 if empty
//	degraded(P) = min(100, factor × degraded(P) / total(P))
//	NTA         = min(100, Σ health + Σ degraded)
//	load(P)     = min(remaining, health(P) × 100 / NTA)         top-down from 100, floored
//	dload(P)    = min(remaining, degraded(P) × 100 / NTA)       top-down from what is left
//	remainder  → load of the first tier with health > 0, else dload of the first with degraded > 0
//
// When NTA < 100, a tier is in panic when 100·healthy/total + 100·degraded/total (in floating
// point, as Envoy) is below the threshold; if every tier is, load follows endpoint counts
// (100 × total(P) / Σ total, floored, remainder to the first non-empty tier, no degraded load).
// With panic disabled and NTA 0, tier 0 takes all (healthy) load and nothing is in panic. For
// example tiers 25 %/25 %/20 % healthy with panic off load 37/35/28: health 35/35/28, NTA 98,
// floored shares 35/35/28 and the remaining 2 to tier 0.
//
// One corner keeps Envoy's behaviour too: with a factor below 100, every availability can floor
// to 0 while some tier is not below the threshold (30 × 1 / 97 = 0, yet 1 % ≥ a 1 % threshold).
// Then NTA is 0, there is no total panic and every share is 0; Plan.ChooseTier then picks tier
// 0's healthy endpoints (all of them if it panics), as Envoy's choosePriority does when the
// shares do not reach its draw.
func Distribute(health []TierHealth, o LoadOptions) Load {
	n := len(health)
	l := Load{
		Health: make([]uint32, n), DegradedHealth: make([]uint32, n), Percent: make([]uint32, n),
		DegradedPercent: make([]uint32, n), Panic: make([]bool, n),
	}
	if n == 0 {
		return l
	}
	clean := make([]TierHealth, n)
	sum := uint64(0)
	for i, h := range health {
		clean[i] = h.clean()
		l.Health[i] = availability(clean[i].Healthy, clean[i].Total, o.factor())
		l.DegradedHealth[i] = availability(clean[i].Degraded, clean[i].Total, o.factor())
		sum += uint64(l.Health[i]) + uint64(l.DegradedHealth[i])
	}
	l.NormalizedTotal = uint32(min(sum, 100))
	if l.NormalizedTotal > 0 {
		distributeByAvailability(&l)
	}
	threshold := o.threshold()
	if threshold == 0 && l.NormalizedTotal == 0 {
		// Nothing can take traffic and nothing panics: Envoy still hands tier 0 all the load,
		// so that the shares sum to 100.
		l.Percent[0] = 100
		return l
	}
	l.TotalPanic = markPanic(&l, clean, threshold)
	if l.TotalPanic {
		distributeByCount(&l, clean)
	}
	return l
}

// availability is min(100, factor × count / total), 0 for an empty tier.
func availability(count, total int, factor uint64) uint32 {
	if total == 0 {
		return 0
	}
	return uint32(min(factor*uint64(count)/uint64(total), 100))
}

// distributeByAvailability hands out 100 % top-down, first by healthy availability, then what
// is left by degraded availability, and gives the rounding remainder to the first tier with
// healthy availability, else to the first with degraded availability.
func distributeByAvailability(l *Load) {
	firstHealthy, rest := distributeLoad(l.Percent, l.Health, 100, l.NormalizedTotal)
	firstDegraded, rest := distributeLoad(l.DegradedPercent, l.DegradedHealth, rest, l.NormalizedTotal)
	switch {
	case rest == 0:
	case firstHealthy >= 0:
		l.Percent[firstHealthy] += rest
	default:
		l.DegradedPercent[firstDegraded] += rest
	}
}

// distributeLoad sets load[i] = min(total left, avail[i] × 100 / nta) from the first tier down
// and returns the first tier with availability (-1 if none) and the load left over.
func distributeLoad(load, avail []uint32, total, nta uint32) (int, uint32) {
	first := -1
	for i, a := range avail {
		if first < 0 && a > 0 {
			first = i
		}
		load[i] = min(total, a*100/nta)
		total -= load[i]
	}
	return first, total
}

// markPanic sets per-tier panic (only when NTA < 100) and reports whether every tier panics.
func markPanic(l *Load, health []TierHealth, threshold uint64) bool {
	total := true
	for i, h := range health {
		l.Panic[i] = l.NormalizedTotal < 100 && inPanic(h, threshold)
		total = total && l.Panic[i]
	}
	return total
}

// inPanic reports whether the tier's healthy plus degraded percentage is below the threshold,
// computed in float64 as Envoy's isHostSetInPanic computes it (an empty tier is at 0 %). The
// explicit conversions keep each operation rounded on its own, as in Envoy.
func inPanic(h TierHealth, threshold uint64) bool {
	var healthy, degraded float64
	if h.Total > 0 {
		healthy = float64(100 * float64(h.Healthy) / float64(h.Total))
		degraded = float64(100 * float64(h.Degraded) / float64(h.Total))
	}
	return float64(healthy+degraded) < float64(threshold)
}

// distributeByCount splits load by endpoint counts (total panic): no degraded load, remainder
// to the first non-empty tier, everything to tier 0 when there is no endpoint at all.
func distributeByCount(l *Load, health []TierHealth) {
	hosts := uint64(0)
	for _, h := range health {
		hosts += uint64(h.Total)
	}
	clear(l.Percent)
	clear(l.DegradedPercent)
	if hosts == 0 {
		l.Percent[0] = 100
		return
	}
	remaining := uint32(100)
	first := -1
	for i, h := range health {
		if first < 0 && h.Total > 0 {
			first = i
		}
		l.Percent[i] = uint32(100 * uint64(h.Total) / hosts)
		remaining -= l.Percent[i]
	}
	l.Percent[first] += remaining
}
