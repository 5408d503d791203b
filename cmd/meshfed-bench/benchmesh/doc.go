// Package benchmesh sets up the meshfed side of a benchmark on loopback: an embedded store
// holding the records the hub would publish, workload certificates from a throwaway root, and
// the command line of each meshfed-waypoint process.
package benchmesh
