// Package waypointbench measures what a waypoint adds to an HTTP request: the same 1 KiB POST
// sent directly to a backend, through a bare TCP relay process (the reference: what any extra
// process on the path costs), through a waypoint on the same network, and through two
// waypoints joined by an HBONE tunnel (h2 and h3), at a fixed rate and at the highest rate the
// machine sustains, with the CPU and memory of each waypoint process.
// It backs `meshfed-bench waypoint`, so that the figures in the docs come from one
// reproducible run; see ../README.md for the columns and what limits them.
package waypointbench
