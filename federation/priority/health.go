package priority

import "github.com/meshfed/meshfed/federation/model"

// Ejected reports whether the waypoint's outlier detection currently ejects endpoint i (an index
// into the endpoint slice). A nil Ejected ejects nothing.
type Ejected func(i int) bool

// hostState is an endpoint's health as Envoy's load balancer sees a host.
type hostState uint8

// The host states. An ejected endpoint is unhealthy whatever its conditions, as an Envoy host
// that failed outlier detection.
const (
	stateUnhealthy hostState = iota
	stateHealthy
	stateDegraded
)

// stateOf classifies endpoint i: healthy (model healthy, not ejected), degraded (serving but
// terminating, not ejected) or unhealthy.
func stateOf(eps []model.Endpoint, i int, ejected Ejected) hostState {
	switch {
	case ejected != nil && ejected(i):
		return stateUnhealthy
	case eps[i].Healthy():
		return stateHealthy
	case eps[i].Degraded():
		return stateDegraded
	}
	return stateUnhealthy
}

// Health counts healthy, degraded and total endpoints per tier, for Distribute.
func (t *Tiers) Health(eps []model.Endpoint, ejected Ejected) []TierHealth {
	out := make([]TierHealth, len(t.Members))
	for tier, members := range t.Members {
		out[tier].Total = len(members)
		for _, i := range members {
			switch stateOf(eps, i, ejected) {
			case stateHealthy:
				out[tier].Healthy++
			case stateDegraded:
				out[tier].Degraded++
			case stateUnhealthy:
			}
		}
	}
	return out
}
