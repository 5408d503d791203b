// Package model holds the pure data of the federation: localities, endpoints, one cluster's
// export of a Service, the merged global service, and what the hub publishes of them in the
// federation store (Published*; package store owns how they are stored).
//
// It has no behaviour beyond parsing and validating its enums, and patching endpoint lists
// (EndpointsPatch: how the hub's stages hand each other a changed large service), so that
// every other package (merge, priority, store, the waypoint) can share one vocabulary without
// sharing any I/O.
package model
