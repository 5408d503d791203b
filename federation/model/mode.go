package model

// Mode is a traffic-distribution mode: which locality keys rank endpoints into priority tiers
// (DESIGN §3.3). Parsing, precedence and tier computation live in federation/priority.
type Mode string

// The traffic-distribution modes. PreferSameZone is accepted on input as a synonym of
// PreferClose and never stored.
const (
	// ModeAny puts every endpoint in one tier.
	ModeAny Mode = "Any"
	// ModePreferNetwork ranks same-network endpoints first.
	ModePreferNetwork Mode = "PreferNetwork"
	// ModePreferCluster ranks by network, then cluster.
	ModePreferCluster Mode = "PreferCluster"
	// ModePreferRegion ranks by network, then region.
	ModePreferRegion Mode = "PreferRegion"
	// ModePreferClose ranks by network, region, zone (as Istio 1.27 and later: no subzone).
	ModePreferClose Mode = "PreferClose"
	// ModePreferSameNode ranks by network, region, zone, subzone, node (same cluster and same
	// node name).
	ModePreferSameNode Mode = "PreferSameNode"
	// ModeFailoverPriority ranks by an explicit label list (meshfed.io/failover-priority), as
	// Istio's failoverPriority: a leading-match count, split by network first when the list
	// starts with topology.istio.io/network.
	ModeFailoverPriority Mode = "FailoverPriority"
)

// DefaultBackendMode is the mode used to choose a backend when nothing else is set.
const DefaultBackendMode = ModePreferNetwork

// DefaultWaypointMode is the mode used to choose a waypoint when nothing else is set.
const DefaultWaypointMode = ModePreferClose

// Distribution is a resolved traffic distribution: a mode and, for ModeFailoverPriority only,
// the ordered label keys. Its JSON names are those of the waypoint's /debug/endpoints document;
// the federation store declares its own (package store).
type Distribution struct {
	Mode             Mode     `json:"mode"`
	FailoverPriority []string `json:"failoverPriority,omitempty"`
}

// Equal reports whether two distributions rank endpoints the same way.
func (d Distribution) Equal(o Distribution) bool {
	if d.Mode != o.Mode || len(d.FailoverPriority) != len(o.FailoverPriority) {
		return false
	}
	for i := range d.FailoverPriority {
		if d.FailoverPriority[i] != o.FailoverPriority[i] {
			return false
		}
	}
	return true
}
