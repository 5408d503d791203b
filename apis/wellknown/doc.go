// Package wellknown defines the label and annotation keys, object names and ports that users,
// the hub, the waypoints and meshfedctl share, and the naming rules built on them (a derived
// Service's name, the waypoint pods' selector).
//
// It imports only the standard library, so that the API types, the pure federation core and the
// data plane can all take these names from one place.
package wellknown
