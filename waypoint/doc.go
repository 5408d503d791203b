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
// # Scope of this milestone
//
// Only same-network endpoints are routed (direct TCP to the pod). Endpoints on another network
// need an HBONE tunnel through their cluster's waypoint; they are listed as skipped in the
// table and never picked. Every port is balanced per connection (L4); HTTP-aware balancing,
// inbound HBONE termination and Prometheus metrics come later.
package waypoint
