// Package merge turns every member cluster's exports into global services: which clusters
// import each service and whose endpoints they may address (DESIGN §3.2), and how
// disagreeing exports are resolved and reported (the MCS rules of DESIGN §4).
//
// It is pure so that the hub can recompute the whole federation on every change and compare,
// and so that the hub and the waypoint share one reading of scope: no I/O, deterministic
// (sorted output, byte-identical for the same input in any order), input never modified.
//
// # Services and scope
//
// Exports with the same namespace and name from clusters whose segments share a domain are one
// service, <name>.<namespace>.<domain>. A cluster whose segment has no Segment object, or an
// empty domain, uses wellknown.DefaultSegmentDomain; the segment name is compared as given (the
// CRD defaults it to "default"). Scope belongs to each export: a client cluster may address
// an exporter's endpoints when the exporter's own scope allows it (cluster: the exporter
// itself; segment: clusters of the exporter's segment — the segment, not every segment of the
// domain; global, global-only: every member cluster, whatever its segment). A cluster imports
// the service when it may address at least one exporter; Import.From lists those exporters.
// The service's Scope is the widest export scope, for display; Takeover is true when any
// export asks for it.
//
// # Conflicts (MCS KEP-1645, "Constraints and Conflict Resolution")
//
// Precedence is by export age: the oldest Created wins, ties by cluster name.
//
//   - Ports are the union across exports. A declared port joins the merged port of the same
//     name, else the one of the same protocol and number, else it is new — so merged ports
//     never share a name nor a (protocol, number) pair. The oldest declaration's name and
//     number stand; any other name or number is a PortConflict. When declarations disagree
//     on protocol or appProtocol the port falls back to plain L4 without appProtocol, on TCP
//     unless all agree on the L4 protocol or TCP on that number is taken by another merged
//     port (then the oldest's L4 protocol stays); this is a PortConflict too. A port that
//     would map a second port of the same cluster onto one merged port is not merged and is
//     reported. Port sets that differ without clashing (a port only some clusters export)
//     give the union and one PortConflict naming every exporter, as MCS asks for whenever
//     the ports are not identical in all the constituent Services.
//   - Type: the oldest export's (empty means ClusterSetIP); disagreement is a TypeConflict.
//   - ServiceImport properties (model.ServiceProperties): for each of session affinity,
//     internal traffic policy, traffic distribution (spec.trafficDistribution as written) and
//     IP families, the oldest export that sets it wins; an export that leaves it unset (an old
//     store record) neither wins nor conflicts. The affinity timeout comes with the winning
//     affinity. Different affinities are a SessionAffinityConflict, different timeouts among
//     ClientIP exports a SessionAffinityConfigConflict, different internal traffic policies an
//     InternalTrafficPolicyConflict. The traffic distribution and IP families raise no
//     conflict of their own (the next item covers distributions; a ClusterSetIP import's
//     families are those of its derived Service).
//   - Traffic distribution: only exports with DistributionSet take part; none, or all equal,
//     give theirs (none: model.DefaultBackendMode); any disagreement gives the default and a
//     TrafficDistributionConflict (DESIGN §3.3: the default, not the oldest).
//
// Each conflict lists, in Clusters, every cluster that declared the disputed property, and its
// message names the winner and each value with its clusters, sorted.
//
// # Endpoints
//
// Endpoints stay out of model.GlobalService: Service.Endpoints holds a copy per exporting
// cluster, as the store writes it. Each copy's port names are mapped onto the merged port
// names (so the waypoint finds a target port by the merged name even where an exporter named
// the port differently) and ports the service does not expose are dropped; the locality's
// cluster is set to the exporter and an empty network or region is filled from it.
// Service.EndpointsFor, Visible and Addressable give a client cluster what it may address.
//
// # Problems
//
// Exports from non-member clusters, with an invalid scope, without a namespace or name, or
// duplicated within a cluster (the oldest copy is kept) are ignored, and every ignored export
// is one InputProblem. A cluster listed twice keeps the entry smallest by (segment, network,
// region), a segment listed twice its smallest domain — choices that do not depend on input
// order — and both are reported; so are endpoints claiming another cluster.
package merge
