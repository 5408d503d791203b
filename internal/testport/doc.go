// Package testport hands tests a loopback port that a process they start binds later (an
// embedded etcd, a waypoint's service listener, a DNS server). The ports come from below the
// kernel's ephemeral range, which every bind to port 0 and every outgoing connection of the
// machine draws from, so that no such socket is given the port between the choice and the
// bind, as one found by listening on port 0 and closing could be. Within a process a port is
// handed out once; two test processes can still draw the same port at random from the same
// 16,384, a chance this package makes small but does not remove.
package testport
