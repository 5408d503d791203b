// Package get implements `meshfedctl get globalservices`: a table of the hub's GlobalService
// mirrors, with per-service clusters, endpoint readiness and conflicts.
package get
