package priority

import "github.com/meshfed/meshfed/federation/model"

// Plan is what a waypoint needs to route one service for one client: the load split across tiers
// and each tier's candidates, healthy and degraded (all of its endpoints for both when the tier
// panics). Build a new Plan when endpoints, ejections or health change; a Plan is read-only
// afterwards (apart from the round-robin cursors) and safe for concurrent Pick calls.
type Plan struct {
	// Load is the split across tiers.
	Load     Load
	healthy  []*Candidates
	degraded []*Candidates
}

// noCandidates is the shared empty candidate set; no picker touches its cursor.
var noCandidates = &Candidates{}

// NewPlan computes the load split for tiers over eps and prepares each tier's candidates.
func NewPlan(eps []model.Endpoint, t Tiers, ejected Ejected, o LoadOptions) *Plan {
	health := t.Health(eps, ejected)
	n := t.Len()
	p := &Plan{Load: Distribute(health, o), healthy: make([]*Candidates, n), degraded: make([]*Candidates, n)}
	for tier, members := range t.Members {
		if p.Load.Panic[tier] {
			all := NewCandidates(eps, members)
			p.healthy[tier], p.degraded[tier] = all, all
			continue
		}
		h, d := partition(eps, members, ejected, health[tier])
		p.healthy[tier], p.degraded[tier] = candidatesOf(eps, h), candidatesOf(eps, d)
	}
	return p
}

// partition splits a tier's members into its healthy and its degraded endpoints, whose counts
// Health already knows.
func partition(eps []model.Endpoint, members []int, ejected Ejected, h TierHealth) (healthy, degraded []int) {
	if h.Healthy+h.Degraded == 0 {
		return nil, nil
	}
	both := make([]int, 0, h.Healthy+h.Degraded)
	healthy, degraded = both[:0:h.Healthy], both[h.Healthy:h.Healthy:h.Healthy+h.Degraded]
	for _, i := range members {
		switch stateOf(eps, i, ejected) {
		case stateHealthy:
			healthy = append(healthy, i)
		case stateDegraded:
			degraded = append(degraded, i)
		case stateUnhealthy:
		}
	}
	return healthy, degraded
}

// candidatesOf prepares idx, sharing noCandidates when it is empty.
func candidatesOf(eps []model.Endpoint, idx []int) *Candidates {
	if len(idx) == 0 {
		return noCandidates
	}
	return NewCandidates(eps, idx)
}

// Tier returns tier t's healthy candidates (all of its endpoints when it panics).
func (p *Plan) Tier(t int) *Candidates { return p.healthy[t] }

// DegradedTier returns tier t's degraded candidates (all of its endpoints when it panics).
func (p *Plan) DegradedTier(t int) *Candidates { return p.degraded[t] }

// Choice is where one request goes: a tier, and whether to its degraded endpoints rather than
// its healthy ones (Envoy's priority and host availability).
type Choice struct {
	Tier     int
	Degraded bool
}

// Candidates returns the candidates of a choice.
func (p *Plan) Candidates(c Choice) *Candidates {
	if c.Degraded {
		return p.degraded[c.Tier]
	}
	return p.healthy[c.Tier]
}

// ChooseTier maps a uniform random value to a choice by load, as Envoy's choosePriority does:
// draw 1..100 and walk the cumulative healthy percentages, then the degraded ones; shares that
// do not reach the draw (all 0, see Distribute) give tier 0's healthy endpoints, as in Envoy. It
// returns false when there is no tier.
func (p *Plan) ChooseTier(r uint64) (Choice, bool) {
	draw := uint32(r%100) + 1
	sum := uint32(0)
	for t, pct := range p.Load.Percent {
		sum += pct
		if draw <= sum {
			return Choice{Tier: t}, true
		}
	}
	for t, pct := range p.Load.DegradedPercent {
		sum += pct
		if draw <= sum {
			return Choice{Tier: t, Degraded: true}, true
		}
	}
	if len(p.Load.Percent) == 0 {
		return Choice{Tier: -1}, false
	}
	return Choice{Tier: 0}, true
}

// Pick chooses a tier and host set by load with src, then an endpoint in it with pk. It returns
// false when there is no tier or the chosen set is empty, which happens only when no endpoint can
// take traffic and no tier panics (nothing healthy or degraded and panic disabled, or the
// corner Distribute describes).
func (p *Plan) Pick(src Source, pk Picker, in InFlight) (int, bool) {
	c, ok := p.ChooseTier(src.Uint64())
	if !ok {
		return -1, false
	}
	return pk.Pick(p.Candidates(c), in)
}
