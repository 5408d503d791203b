package priority

import "github.com/meshfed/meshfed/federation/model"

// Plan is what a waypoint needs to route one service for one client: the load split across tiers
// and each tier's candidates (healthy endpoints, or all of them when the tier panics). Build a new
// Plan when endpoints, ejections or health change; a Plan is read-only afterwards (apart from the
// round-robin cursors) and safe for concurrent Pick calls.
type Plan struct {
	// Load is the split across tiers.
	Load  Load
	tiers []*Candidates
}

// NewPlan computes the load split for tiers over eps and prepares each tier's candidates.
func NewPlan(eps []model.Endpoint, t Tiers, ejected Ejected, o LoadOptions) *Plan {
	health := t.Health(eps, ejected)
	p := &Plan{Load: Distribute(health, o), tiers: make([]*Candidates, t.Len())}
	for tier, members := range t.Members {
		idx := members
		if !p.Load.Panic[tier] {
			idx = healthyMembers(eps, members, ejected, health[tier].Healthy)
		}
		p.tiers[tier] = NewCandidates(eps, idx)
	}
	return p
}

// healthyMembers filters members down to the count healthy endpoints among them.
func healthyMembers(eps []model.Endpoint, members []int, ejected Ejected, count int) []int {
	if count == 0 {
		return nil
	}
	out := make([]int, 0, count)
	for _, i := range members {
		if healthy(eps, i, ejected) {
			out = append(out, i)
		}
	}
	return out
}

// Tier returns tier t's candidates.
func (p *Plan) Tier(t int) *Candidates { return p.tiers[t] }

// ChooseTier maps a uniform random value to a tier by load, as Envoy's choosePriority does: draw
// 1..100 and walk the cumulative percentages. It returns false when there is no tier.
func (p *Plan) ChooseTier(r uint64) (int, bool) {
	draw := uint32(r%100) + 1
	sum := uint32(0)
	for t, pct := range p.Load.Percent {
		sum += pct
		if draw <= sum {
			return t, true
		}
	}
	return -1, false
}

// Pick chooses a tier by load with src, then an endpoint inside it with pk. It returns false when
// there is no tier or the chosen tier has no candidate (every endpoint down and panic disabled).
func (p *Plan) Pick(src Source, pk Picker, in InFlight) (int, bool) {
	t, ok := p.ChooseTier(src.Uint64())
	if !ok {
		return -1, false
	}
	return pk.Pick(p.tiers[t], in)
}
