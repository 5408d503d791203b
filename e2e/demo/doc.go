// Package demo is the local federation demo (make demo): a lab of network namespaces with two
// networks, a hub and three member API servers, the real hub, waypoints and meshfedctl as
// processes; a client sends traffic through its waypoint while a zone and then a whole network
// go down and come back, and a table shows requests per second per cluster and zone.
//
// It is a Go test so that it runs on the same machinery as the e2e suite (e2e/system), and it
// asserts what it shows (no failed request). -duration sets how long the traffic runs; Ctrl-C
// ends it early, and everything is removed either way.
package demo
