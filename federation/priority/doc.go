// Package priority ranks a global service's endpoints into priority tiers for one client as
// current Istio ranks them, and splits traffic across those tiers exactly as Envoy splits it
// across priority levels, so that waypoints keep traffic close and fail over gradually in a way
// operators already know.
//
// It is pure and deterministic: no I/O, no mutable package state, no Kubernetes types. The hub
// calls Resolve and ResolveLoad (a service's load policy); the waypoint calls Assign,
// LoadOptions.With (that policy over its own options), NewPlan and Plan.Pick.
//
// # Mode and precedence
//
// Resolve turns raw strings (Sources) into a model.Distribution once. Precedence, most specific
// first:
//
//  1. spec.trafficDistribution (Kubernetes values only, exact case: PreferClose, PreferSameZone,
//     PreferSameNode)
//  2. the Service's annotations
//  3. the Namespace's annotations
//  4. the caller's default (model.DefaultBackendMode or model.DefaultWaypointMode)
//
// Inside one object, meshfed.io/failover-priority (an explicit key list, the most specific thing
// a user can say) beats meshfed.io/traffic-distribution, which beats its alias
// networking.istio.io/traffic-distribution; a losing value that means something different is
// reported as ReasonIgnoredValue. Both annotation keys match their values case-insensitively, as
// Istio's model.GetTrafficDistribution does (strings.ToLower on both sides); PreferSameZone is
// read as PreferClose. The most specific object with a value decides: an invalid value there
// yields a *Problem (origin, key, value, reason) for a Warning Event, never a fall-back to a wider
// object and never an error. What the invalid value gives depends on its key: an unknown
// networking.istio.io/traffic-distribution value means Any, as in Istio; an invalid value of
// meshfed's own keys, or of spec.trafficDistribution, gives the caller's default.
//
// # Tiers
//
// A mode is a key list [network, k1…km]; an endpoint's tier is
// (network differs ? m+1 : 0) + (m − consecutive matches of k1…km), then empty tiers are
// compacted to 0..N-1. This is Istio's failover-priority ranking (applyFailoverPriorityPerLocality
// in pilot/pkg/networking/core/loadbalancer) for a list that starts with topology.istio.io/network,
// which since Istio PR #60829 splits by network first. Any has one tier; PreferClose is Istio's
// list for it (network, region, zone: no subzone since Istio #56042, 1.27); PreferSameNode is
// Istio's (network, region, zone, subzone, node). A meshfed.io/failover-priority list k1…kN
// ranks exactly as Istio's failoverPriority: split by network first when its first entry is
// exactly topology.istio.io/network, otherwise the plain leading-match count (tier N − matches);
// an entry "key=value" compares against value instead of the client's own (and a network entry
// with "=value" does not split). Well-known keys (topology.kubernetes.io/region and /zone,
// topology.istio.io/subzone, /network, /cluster, kubernetes.io/hostname) are read from Locality,
// which holds what Istio adds to proxy and endpoint labels; other keys are read from labels.
// Values compare by plain equality (unset equals unset), as in Istio and ztunnel. A client with
// neither labels nor any locality gets a single tier, as Istio skips failover priority for a
// proxy without labels.
//
// # Where meshfed differs from Istio, and why
//
//   - Nothing set: Istio applies no locality preference (Any); meshfed uses the caller's default
//     (PreferNetwork for backends, PreferClose for waypoints), because leaving the client's
//     network means an HBONE tunnel through another network's waypoint.
//   - An invalid meshfed.io/traffic-distribution or meshfed.io/failover-priority value gives that
//     default too, not Any: a typo in meshfed's own key must not send traffic across networks.
//   - Both annotation keys accept meshfed's further modes (Any, PreferNetwork, PreferCluster,
//     PreferRegion); Istio's annotation knows PreferClose, PreferSameZone and PreferSameNode and
//     reads anything else as Any.
//   - An unknown spec.trafficDistribution value gives the default with a Problem where Istio
//     silently reads the annotations instead. The API server accepts only the values it knows,
//     so such a value comes from a newer Kubernetes, and a Warning says it is not understood.
//   - A node matches only in the client's own cluster (PreferSameNode, and kubernetes.io/hostname
//     in a failover-priority list unless written "kubernetes.io/hostname=name"): node names are
//     unique inside one cluster only, where Istio compares the node name alone.
//
// # Load split
//
// Distribute is Envoy's priority-load code (LoadBalancerBase's recalculatePerPriorityState,
// recalculatePerPriorityPanic and recalculateLoadInTotalPanic in
// source/extensions/load_balancing_policies/common/load_balancer_impl.cc, formerly
// source/common/upstream/load_balancer_impl.cc), integer arithmetic, rounding and the floating
// point panic test included: healthy and degraded availability per tier (overprovisioning factor,
// default 1.4), normalized total availability, healthy load handed out top-down, then degraded
// load from what is left, the rounding remainder to the first available tier, per-tier panic
// (healthy plus degraded below the threshold, default 50 %) only when NTA < 100, and a split by
// endpoint count when every tier panics. It is checked against Envoy's unit-test vectors and,
// over every small configuration, against a transcription of Envoy's code. An endpoint is healthy
// when ready, serving, not terminating and not ejected; degraded (Envoy's degraded host) when
// serving and terminating and not ejected, as Kubernetes' terminating-serving endpoints that
// kube-proxy uses as a last resort; unhealthy otherwise. ResolveLoad reads the per-service
// overprovisioning factor and panic threshold (meshfed.io/overprovisioning-factor,
// meshfed.io/panic-threshold), and meshfed.io/remote-endpoints, whether the endpoints of
// clusters on other networks are seen one by one or one per cluster. Not modelled, because
// meshfed never has them: Envoy's excluded hosts and its weighted_priority_health option (off by
// default). Distribute is a function of the current counts, where Envoy's load balancer keeps
// state between updates; the two differ only when panic is off and nothing is available: Envoy
// then sets tier 0 to 100 % and keeps the other tiers' shares from its previous update,
// Distribute reports 0 for them. Every draw lands in tier 0 either way.
//
// # Picking
//
// Plan.ChooseTier is Envoy's choosePriority: a draw of 1..100 walks the healthy shares, then the
// degraded ones, and names a tier and whether its healthy or its degraded endpoints serve; a tier
// in panic serves from all of its endpoints. Inside the chosen set, LeastRequest (two weighted
// random choices, default) or RoundRobin chooses by endpoint weight; these are meshfed's own
// pickers in the manner of Envoy's, not its code. A pick allocates nothing. Concurrency contract:
// a Plan is immutable once built except for the atomic round-robin cursor in each Candidates;
// one LeastRequest with a SplitMix source (atomic) is shared by all goroutines of a waypoint; a
// math/rand/v2 source must not be shared between goroutines.
package priority
