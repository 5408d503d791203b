// Package waypoint implements `meshfedctl waypoint apply` and `meshfedctl waypoint delete`: the
// per-namespace waypoint's ServiceAccount, Deployment and Service in one member cluster.
package waypoint
