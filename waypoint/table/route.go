package table

import (
	"time"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/priority"

	"github.com/meshfed/meshfed/waypoint/balance"
)

// Route is one global-service port as this waypoint serves it: the endpoints it may address
// through that port, their tiers for the waypoint's locality and the load plan. A Route is
// immutable; the Table replaces it (in a new View) when anything it depends on changes.
type Route struct {
	// Namespace, Name, Domain and Hostname name the global service.
	Namespace string
	Name      string
	Domain    string
	Hostname  string
	// PortName and Port are the service port; ListenPort is the waypoint port allocated for it.
	PortName   string
	Port       int32
	ListenPort int32
	// Distribution is the traffic distribution the tiers follow.
	Distribution model.Distribution
	// Load is how the route splits load across its tiers: the waypoint's options with the
	// service's load policy on top.
	Load priority.LoadOptions
	// Protocol says whether the route is balanced per connection or per request (ProtocolOf).
	Protocol Protocol
	// Aggregated reports that the endpoints of each cluster on another network are routed as
	// one, tunnelled to the service by name (model.RemoteEndpointsAggregated).
	Aggregated bool
	// Endpoints are the routable endpoints (serving this port; on another network only when
	// their cluster has a waypoint to tunnel through), Targets their ip:port (for an aggregated
	// cluster's one endpoint, the service's ServiceTarget), in the same order; Tiers and Plan
	// index into them.
	Endpoints []model.Endpoint
	Targets   []string
	Tiers     priority.Tiers
	Plan      *priority.Plan
	// Skipped lists endpoints the waypoint may address but cannot route in this build.
	Skipped []Skipped
	// Problem explains a fallback taken while building the route (empty when none).
	Problem string

	ejected    []bool
	hosts      []*balance.Host
	pool       *balance.Pool
	poolKey    string // the pool's key in the builder
	serviceKey string // the service's key in the store state
	expires    time.Time
	via        map[*balance.Host]*Peers // the waypoints an endpoint on another network is tunneled through
}

// Skipped is an endpoint left out of a route, with the reason; without an address, every
// endpoint of the cluster that the reason applies to (an aggregated cluster on another
// network, which is routed as one).
type Skipped struct {
	Cluster string `json:"cluster"`
	Address string `json:"address,omitempty"`
	Reason  string `json:"reason"`
}

// Reasons of Skipped.
const (
	// SkipNoHBONE marks an endpoint on another network while HBONE is off (no certificate
	// files): it can only be reached through a tunnel.
	SkipNoHBONE = "cross-network endpoint, HBONE disabled (no certificate files): same-network only"
	// SkipNoWaypoint marks an endpoint on another network whose cluster has no waypoint address
	// in the store to tunnel through.
	SkipNoWaypoint = "cross-network endpoint, no waypoint address for its cluster in the store"
	// SkipNoTargetPort marks an endpoint that does not serve the route's port.
	SkipNoTargetPort = "endpoint has no target port for this service port"
)

// InFlight implements priority.InFlight: connections currently open (or being connected) to
// endpoint i.
func (r *Route) InFlight(i int) int64 { return r.hosts[i].InFlight.Load() }

// Ejected reports whether outlier detection ejected endpoint i when the route was built.
func (r *Route) Ejected(i int) bool { return r.ejected[i] }

// Service is the route's service as namespace/name.
func (r *Route) Service() string { return r.Namespace + "/" + r.Name }

// Host returns the balancing state of endpoint i (outlier detection and in-flight counts).
func (r *Route) Host(i int) *balance.Host { return r.hosts[i] }

// Hosts returns the balancing state of every endpoint, in the order of Endpoints; callers
// must not change the slice.
func (r *Route) Hosts() []*balance.Host { return r.hosts }

// Pool is the outlier detection of the route's service port, shared by the routes that
// replace this one.
func (r *Route) Pool() *balance.Pool { return r.pool }
