package priority

import "github.com/meshfed/meshfed/federation/model"

// Ejected reports whether the waypoint's outlier detection currently ejects endpoint i (an index
// into the endpoint slice). A nil Ejected ejects nothing.
type Ejected func(i int) bool

// healthy reports whether endpoint i may take traffic: model healthy and not ejected.
func healthy(eps []model.Endpoint, i int, ejected Ejected) bool {
	return eps[i].Healthy() && (ejected == nil || !ejected(i))
}

// Health counts healthy and total endpoints per tier, for Distribute.
func (t *Tiers) Health(eps []model.Endpoint, ejected Ejected) []TierHealth {
	out := make([]TierHealth, len(t.Members))
	for tier, members := range t.Members {
		out[tier].Total = len(members)
		for _, i := range members {
			if healthy(eps, i, ejected) {
				out[tier].Healthy++
			}
		}
	}
	return out
}
