// Package priority ranks a global service's endpoints into priority tiers for one client and
// splits traffic across those tiers the way Envoy splits it across priority levels, so that
// waypoints keep traffic close and fail over gradually in a way operators already know.
//
// It is pure and deterministic: no I/O, no mutable package state, no Kubernetes types. The hub
// calls Resolve; the waypoint calls Assign, NewPlan and Plan.Pick.
//
// # Mode and precedence
//
// Resolve turns raw strings (Sources) into a model.Distribution once. Precedence, most specific
// first:
//
//  1. spec.trafficDistribution (Kubernetes values only: PreferClose, PreferSameZone, PreferSameNode)
//  2. the Service's annotations
//  3. the Namespace's annotations
//  4. the caller's default (model.DefaultBackendMode or model.DefaultWaypointMode)
//
// Inside one object, meshfed.io/failover-priority (an explicit key list, the most specific thing
// a user can say) beats meshfed.io/traffic-distribution, which beats its alias
// networking.istio.io/traffic-distribution; a losing value that means something different is
// reported as ReasonIgnoredValue. Values are case-sensitive, as in Kubernetes and Istio;
// PreferSameZone is read as PreferClose (Istio documents the two as aliases). The most specific
// object with a value decides: an invalid value there yields the default plus a *Problem (origin,
// key, value, reason) for a Warning Event, never a fall-back to a wider object and never an error.
//
// # Tiers
//
// A mode is a key list [network, k1…km]; an endpoint's tier is
// (network differs ? m+1 : 0) + (m − consecutive matches of k1…km), then empty tiers are
// compacted to 0..N-1. Any has one tier. A failover-priority list k1…kN ranks by the plain
// leading-match count (tier N − matches, no network split), as Istio's failoverPriority does,
// including its "key=value" form that compares against value instead of the client's own.
// Well-known keys (topology.kubernetes.io/region and /zone, topology.istio.io/subzone, /network,
// /cluster, kubernetes.io/hostname) are read from Locality, other keys from labels. Values
// compare by plain equality (unset equals unset), as in Istio and ztunnel.
//
// # Load split
//
// Distribute follows Envoy's model (health per tier with overprovisioning factor 1.4,
// normalized total availability, top-down shares, remainder to the first healthy tier, per-tier
// panic below 50% healthy only when NTA < 100, split by endpoint count when every tier panics)
// in integer percent. One deliberate difference: each normalized share is rounded to nearest
// where Envoy's code floors it. Whenever NTA is 100 the two agree; otherwise a share differs by
// at most one point, and the result matches Envoy's documentation (tiers 25%/25%/20% healthy,
// panic off: 36/36/28, where the floored code gives 37/35/28).
//
// # Picking
//
// Inside a tier, LeastRequest (two weighted random choices, default) or RoundRobin chooses by
// endpoint weight. A pick allocates nothing. Concurrency contract: a Plan is immutable once built
// except for the atomic round-robin cursor in each Candidates; one LeastRequest with a SplitMix
// source (atomic) is shared by all goroutines of a waypoint; a math/rand/v2 source must not be
// shared between goroutines.
package priority
