// Package scenarios holds the end-to-end tests of DESIGN §7 and issue "The whole system on real
// clusters and networks": real API servers, the real binaries as processes, pods and waypoints
// in network namespaces (e2e/system, e2e/netlab). They need root and iproute2.
package scenarios
