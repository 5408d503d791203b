// Package wptest holds the store records, localities and clock that the tests of the waypoint
// and of its sub-packages build their tables from, so that every test speaks of the same
// shop/echo service, the same clusters and the same localities. It is imported by tests only.
package wptest
