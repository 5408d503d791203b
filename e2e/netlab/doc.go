// Package netlab builds the data-plane test networks of DESIGN §7 out of Linux network
// namespaces, and removes them again.
//
// A Lab owns one fabric namespace holding a Linux bridge per network plus a transit bridge. Pods
// are namespaces with a veth into their network's bridge; a waypoint pod also gets a veth into
// the transit bridge, which is where HBONE ports are reachable across networks. Bridges are not
// routed to each other (the fabric has no addresses on them and does not forward), so a pod on
// one network can reach a pod on another only through a waypoint's HBONE port. The host's root
// namespace gets exactly one veth, into the transit bridge, so that processes on the host (the
// hub's store, the test itself) and waypoints reach each other.
//
// Every lab takes a free 10.X.0.0/16 (X in 200–249) under a host-wide lock, so labs of test
// packages running in parallel never overlap, and it refuses a range any host interface uses.
// Networks get 10.X.N.0/24 (N ≥ 1), transit is 10.X.0.0/24 with the host at 10.X.0.1.
//
// The test process reaches into namespaces without spawning anything: Pod.Listen and Pod.Dial
// create their sockets inside the pod's namespace (a socket keeps the namespace it was made in),
// so backends and clients run in-process. Pod.Command runs a program inside the namespace via
// `ip netns exec`. Lab.Close (registered with t.Cleanup) ends the processes it started, by PID,
// and deletes every namespace, which removes every veth, the host's included. Namespaces left by
// a lab whose process died are removed by the next lab that starts.
//
// Requires root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and iproute2; New fails the test with a clear
// message otherwise.
package netlab
