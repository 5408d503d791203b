package table

import (
	"slices"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/priority"
	"github.com/meshfed/meshfed/waypoint/balance"
)

// maxDraws bounds how often one attempt draws again to avoid an endpoint already tried.
const maxDraws = 8

// Picker picks endpoints from routes: power of two choices over the plan's tiers (least
// request on the in-flight counts it is given), with the retry rules of PickFor. It is safe
// for concurrent use.
type Picker struct {
	src *priority.SplitMix
	lr  *priority.LeastRequest
}

// NewPicker returns a picker whose random draws follow seed.
func NewPicker(seed uint64) *Picker {
	return &Picker{src: priority.NewSplitMix(seed), lr: priority.NewLeastRequest(priority.NewSplitMix(seed ^ 0x5bd1e995))}
}

// Pick chooses an endpoint not tried yet: the route's plan for the first try, a plan without
// the tiers already tried for a retry (see PickFor).
func (p *Picker) Pick(r *Route, tried []*balance.Host) (*balance.Host, bool) {
	return p.PickFor(r, tried, r)
}

// PickFor is Pick with in-flight counts from in: connections for per-connection routes,
// requests for per-request routes. A retry follows Envoy's previous_priorities and
// previous_hosts retry predicates, and leaves the peer waypoints already tried: every tier a
// try already failed in counts as unhealthy, and so does every endpoint behind a peer waypoint
// a failed try tunneled through, so that a retry moves on at once instead of finding another
// dead endpoint of a zone, network or cluster that went down together (max-ejection-percent
// keeps most of them in the plan). When that leaves no endpoint that serves (a tier with none
// ready panics over its not-ready ones, which are no choice), the tiers are allowed again, then
// the peers; the endpoints already tried are always avoided.
func (p *Picker) PickFor(r *Route, tried []*balance.Host, in priority.InFlight) (*balance.Host, bool) {
	if len(tried) == 0 {
		return p.draw(r, r.Plan, nil, in)
	}
	triedTiers := make(map[int]bool, len(tried))
	triedVia := make(map[*Peers]bool, len(tried))
	for i, h := range r.hosts {
		if slices.Contains(tried, h) {
			triedTiers[r.Tiers.Of[i]] = true
			if v := r.via[h]; v != nil {
				triedVia[v] = true
			}
		}
	}
	viaTried := func(i int) bool { v := r.via[r.hosts[i]]; return v != nil && triedVia[v] }
	levels := []func(i int) bool{
		func(i int) bool { return triedTiers[r.Tiers.Of[i]] || viaTried(i) },
		viaTried,
		func(int) bool { return false },
	}
	for n, avoid := range levels {
		unhealthy := func(i int) bool { return r.ejected[i] || slices.Contains(tried, r.hosts[i]) || avoid(i) }
		plan := priority.NewPlan(r.Endpoints, r.Tiers, unhealthy, r.Load)
		h, ok := p.draw(r, plan, tried, in)
		if !ok {
			continue
		}
		// A plan with no healthy endpoint left panics over all of them, not-ready ones too;
		// only the last level may hand out an endpoint it meant to avoid or one that does not
		// serve.
		if i := slices.Index(r.hosts, h); !unhealthy(i) && serves(&r.Endpoints[i]) {
			return h, true
		}
		if n == len(levels)-1 {
			return untriedOr(r, tried, h), true
		}
	}
	return nil, false
}

// serves reports whether ep takes traffic when the plan is not panicking: healthy, or degraded
// (serving while terminating).
func serves(ep *model.Endpoint) bool { return ep.Healthy() || ep.Degraded() }

// untriedOr is the best-tier endpoint neither tried nor ejected, one that serves if any, else
// h: the random draws of a panicking plan can miss the one endpoint left.
func untriedOr(r *Route, tried []*balance.Host, h *balance.Host) *balance.Host {
	for _, serving := range [...]bool{true, false} {
		for _, members := range r.Tiers.Members {
			for _, i := range members {
				if !r.ejected[i] && !slices.Contains(tried, r.hosts[i]) && (!serving || serves(&r.Endpoints[i])) {
					return r.hosts[i]
				}
			}
		}
	}
	return h
}

// draw picks from plan an endpoint not tried yet, drawing again at most maxDraws times; when
// every draw lands on a tried endpoint, the last one is returned.
func (p *Picker) draw(r *Route, plan *priority.Plan, tried []*balance.Host, in priority.InFlight) (*balance.Host, bool) {
	var h *balance.Host
	for range maxDraws {
		i, ok := plan.Pick(p.src, p.lr, in)
		if !ok {
			return nil, false
		}
		h = r.hosts[i]
		if !slices.Contains(tried, h) {
			return h, true
		}
	}
	return h, true
}
