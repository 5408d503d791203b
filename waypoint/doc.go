// Package waypoint is meshfed's data plane for one namespace, assembled from its sub-packages:
// it follows the federation store into an endpoint table (waypoint/table), and carries TCP
// connections and HTTP requests from the waypoint listener ports to the endpoints the table
// routes, by priority tier, with least-request balancing, bounded retries and outlier
// detection (waypoint/balance).
//
// # Data flow
//
// table.Table consumes store.Client.Watch for the namespace and rebuilds an immutable
// table.View (one table.Route per service port: endpoints, tiers and a priority.Plan for this
// waypoint's locality) on every change, swapping it atomically; Outbound opens one listener per
// Route and, per accepted connection, picks an endpoint (table.Picker), dials it (directly or
// through a tunnel) and splices both directions with half-close carried through. Connect
// failures feed the route's outlier detection (balance.Pool), whose ejections rebuild the
// view so that load fails over to the next tier.
//
// # Cross-network traffic
//
// An endpoint on another network is reached through an HBONE tunnel (waypoint/tunnel, over
// hbone.Dialer) to a waypoint of its cluster, whose addresses the store's WaypointsRecord
// gives; Inbound is the receiving side, an hbone.Server whose handler lets only this
// namespace's waypoints and the shared gateways its records publish (or an allow list) reach
// ready local endpoints their cluster imports.
// Without HBONE credentials only same-network endpoints are routed.
//
// # Shared gateway
//
// Gateway runs the same parts for several namespaces of one cluster in one process: per
// namespace a table with its own store watch, its own outbound listeners and its own inbound
// policy, with one HBONE dialer and one inbound server whose handler dispatches each tunnel to
// the namespace whose table holds its target. The namespaces are a fixed set, or those the
// gateway's store record lists, started and drained as the record changes.
//
// # Per-request routes
//
// A port whose appProtocol or name says HTTP, h2c or gRPC (table.ProtocolOf) is served as
// HTTP/1.1 and h2c: every request is picked from the plan by requests in flight, sent over a
// per-endpoint connection pool (waypoint/http1 for HTTP/1.1, which also reads the client's
// HTTP/1.1 requests) whose connections Outbound.dial
// opens (direct or through a tunnel), retried on another endpoint as far as its method and
// body allow, and its 5xx and gateway errors feed outlier detection. Metrics live in a
// registry of each Waypoint, served at /metrics.
package waypoint
