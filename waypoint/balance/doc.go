// Package balance is the per-endpoint state a waypoint balances on: a Host per endpoint target
// of a route, with the connections and requests in flight that least-request picking reads,
// and a Pool per service port that runs outlier detection over its hosts (Envoy's consecutive
// local-origin failures, consecutive 5xx and consecutive gateway errors, ejection time growing
// with each ejection and capped, at most MaxEjectionPercent of the hosts out at once).
//
// A Pool outlives the table views that use it: a rebuilt route asks its pool for the hosts it
// routes (Pool.Host) and drops the others (Pool.Retain), so counts and ejections survive
// endpoint and service changes. OutlierOptions.WithPolicy lays a service's outlier policy (the
// meshfed.io/outlier-detection annotation, from its store record) over the waypoint's options.
//
// The package is pure: no I/O, no clock of its own (callers pass the time), no dependency
// beyond the federation model.
package balance
