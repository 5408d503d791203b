// Package model holds the pure data of the federation: localities, endpoints, one cluster's
// export of a Service, and the merged global service.
//
// It has no behaviour beyond parsing and validating its enums, so that every other package
// (merge, priority, store, the waypoint) can share one vocabulary without sharing any I/O.
package model
