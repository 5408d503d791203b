package model

import "time"

// PublishedCluster is a member cluster as the hub publishes it in the federation store.
type PublishedCluster struct {
	Cluster
	// Ready is false while the hub cannot reach the member or keeps its endpoints as stale.
	Ready bool
	// LastSync is when the hub last read the member's exports; zero when it never did.
	LastSync time.Time
}

// PublishedService is a global service as the hub publishes it in the federation store: the
// merged service and the waypoint listener port allocated for each of its ports. Its exporters
// carry no endpoint counts (they change with every readiness flip; PublishedEndpoints has the
// endpoints).
type PublishedService struct {
	GlobalService
	// WaypointPorts holds, for each of Ports in order, the waypoint listener port the hub
	// allocated for it in the service's namespace (DESIGN §4); 0 while none is allocated.
	WaypointPorts []int32
}

// WaypointPort returns the waypoint listener port of Ports[i], 0 when none is allocated.
func (s *PublishedService) WaypointPort(i int) int32 {
	if i < 0 || i >= len(s.WaypointPorts) {
		return 0
	}
	return s.WaypointPorts[i]
}

// PublishedEndpoints is one cluster's endpoints of one global service as the hub publishes
// them in the federation store.
type PublishedEndpoints struct {
	Namespace string
	Domain    string
	Name      string
	Cluster   string
	// Scope is the cluster's own scope for these endpoints.
	Scope Scope
	// Stale marks endpoints kept while the cluster is unreachable (DESIGN §4, --stale-grace).
	Stale bool
	// Endpoints are in the order the hub merged them (by address).
	Endpoints []Endpoint
}

// PublishedWaypoints are the waypoints of one namespace in one cluster as the hub publishes
// them in the federation store.
type PublishedWaypoints struct {
	Namespace string
	Cluster   string
	// Network is the waypoints' network.
	Network string
	// Addresses are the host:port HBONE addresses callers on other networks dial.
	Addresses []string
	// Gateway is the namespace of the shared gateway that serves this namespace in this
	// cluster; empty when the namespace's own waypoints do.
	Gateway string
	// Identity is the SPIFFE ID the HBONE servers at Addresses present and tunnels from them
	// carry: the shared gateway's; empty for the namespace's own waypoints, whose ID callers
	// derive from the namespace.
	Identity string
}

// PublishedGateway is a shared gateway as the hub publishes it in the federation store: where
// it runs and the namespaces it serves there.
type PublishedGateway struct {
	Cluster   string
	Namespace string
	// Serves are the namespaces it serves, sorted.
	Serves []string
}
