// Package waypoint is meshfed's data plane for one namespace: it follows the federation store,
// keeps a table of the endpoints this waypoint may address per global-service port, and carries
// TCP connections from the waypoint listener ports to those endpoints by priority tier, with
// least-request balancing, bounded retries and outlier detection.
//
// # Data flow
//
// Table consumes store.Client.Watch for the namespace and rebuilds an immutable Snapshot (one
// Route per service port: endpoints, tiers and a priority.Plan for this waypoint's locality) on
// every change, swapping it atomically; Outbound opens one listener per Route and, per accepted
// connection, picks an endpoint from the current Plan, dials it and splices both directions with
// half-close carried through. Connect failures feed the per-route outlier detector, whose
// ejections rebuild the Snapshot so that load fails over to the next tier.
//
// # Per-request routes
//
// A port whose appProtocol or name says HTTP, h2c or gRPC (ProtocolOf) is served as HTTP/1.1
// and h2c: every request is picked from the plan by requests in flight, sent over a
// per-endpoint connection pool whose connections Outbound.dial opens, retried on another
// endpoint as far as its method and body allow, and its 5xx and gateway errors feed outlier
// detection. Metrics live in a registry of each Waypoint, served at /metrics.
//
// # Scope of this milestone
//
// Only same-network endpoints are routed (direct TCP to the pod). Endpoints on another network
// need an HBONE tunnel through their cluster's waypoint; they are listed as skipped in the
// table and never picked. Inbound HBONE termination comes later.
package waypoint
