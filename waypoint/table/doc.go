// Package table is a waypoint's endpoint table: it follows the federation store for one
// namespace (Table.Run, or Table.Apply for each store.Batch) and keeps an immutable View, one
// Route per global-service port with a waypoint port, rebuilt and swapped atomically on every
// change of the store or of an ejection.
//
// Building a Route is the waypoint's whole routing decision short of the connection: which
// clusters' endpoints it may address (the service's Imports, merge.ReachOf), which of them serve
// the port, which on another network it can reach through a waypoint of their cluster (the
// store's WaypointsRecord; Peers) and which it skips and why (Skipped), the protocol it speaks
// (ProtocolOf), the priority tiers for the waypoint's locality and the load plan with the
// current ejections (balance.Pool) under the service's load policy. A View also indexes the
// endpoints of the waypoint's own cluster that inbound tunnels may reach (Accepts, Grants).
// Picker picks an endpoint of a route for a try and a retry; Debug is the JSON of
// /debug/endpoints.
//
// The table is the reusable reader of the store's routing data: ServiceRoutes builds one
// service's routes as a waypoint would, without following the store, for meshfedctl describe
// --from. The package imports no HTTP server, no HBONE and no QUIC: it decides, the waypoint
// package connects.
package table
