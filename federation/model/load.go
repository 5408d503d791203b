package model

import (
	"fmt"
	"strings"
)

// LoadPolicy is one service's tuning of how waypoints balance it, from the annotations
// meshfed.io/overprovisioning-factor, meshfed.io/panic-threshold and
// meshfed.io/remote-endpoints (parsed and validated by federation/priority). A nil or empty
// field keeps the waypoint's default. A ClusterExport carries its cluster's policy, a
// GlobalService the policy of its oldest export that sets one.
type LoadPolicy struct {
	// OverprovisioningFactor is Envoy's overprovisioning factor in percent (140 means 1.4); at
	// least 1.
	OverprovisioningFactor *uint32 `json:"overprovisioningFactor,omitempty"`
	// PanicThreshold is Envoy's healthy panic threshold in percent, 0–100; 0 disables panic.
	PanicThreshold *uint32 `json:"panicThreshold,omitempty"`
	// RemoteEndpoints is how a waypoint sees the endpoints of clusters on other networks; ""
	// means RemoteEndpointsEach.
	RemoteEndpoints RemoteEndpoints `json:"remoteEndpoints,omitempty"`
}

// RemoteEndpoints is how a waypoint sees a service's endpoints in the clusters on other
// networks than its own, which it reaches through those clusters' waypoints.
type RemoteEndpoints string

const (
	// RemoteEndpointsEach routes to every endpoint of every cluster, each tunnelled to its own
	// address through its cluster's waypoint: the waypoint balances and ejects them one by one.
	// The default.
	RemoteEndpointsEach RemoteEndpoints = "each"
	// RemoteEndpointsAggregated routes to one endpoint per cluster on another network, weighted
	// by that cluster's healthy endpoints, tunnelled to the service itself through the cluster's
	// waypoint, which balances over its local endpoints. A waypoint then holds and balances one
	// entry per remote cluster instead of one per remote endpoint.
	RemoteEndpointsAggregated RemoteEndpoints = "aggregated"
)

// Aggregated reports whether remote clusters' endpoints are aggregated, one per cluster.
func (p *LoadPolicy) Aggregated() bool {
	return p != nil && p.RemoteEndpoints == RemoteEndpointsAggregated
}

// IsZero reports whether nothing is set.
func (p LoadPolicy) IsZero() bool {
	return p.OverprovisioningFactor == nil && p.PanicThreshold == nil && p.RemoteEndpoints == ""
}

// Clone returns a deep copy (nil for nil).
func (p *LoadPolicy) Clone() *LoadPolicy {
	if p == nil {
		return nil
	}
	return &LoadPolicy{OverprovisioningFactor: clonePtr(p.OverprovisioningFactor), PanicThreshold: clonePtr(p.PanicThreshold), RemoteEndpoints: p.RemoteEndpoints}
}

// String formats the set fields in the annotations' syntax, for example
// "overprovisioning-factor=150,panic-threshold=0,remote-endpoints=aggregated"; "" when nothing
// is set.
func (p LoadPolicy) String() string {
	var parts []string
	if p.OverprovisioningFactor != nil {
		parts = append(parts, fmt.Sprintf("overprovisioning-factor=%d", *p.OverprovisioningFactor))
	}
	if p.PanicThreshold != nil {
		parts = append(parts, fmt.Sprintf("panic-threshold=%d", *p.PanicThreshold))
	}
	if p.RemoteEndpoints != "" {
		parts = append(parts, "remote-endpoints="+string(p.RemoteEndpoints))
	}
	return strings.Join(parts, ",")
}
