// Package waypoint implements `meshfedctl waypoint apply` and `meshfedctl waypoint delete`: the
// per-namespace waypoint's ServiceAccount, Node-reading RBAC, Deployment and Service in one
// member cluster, with its PodDisruptionBudget and HorizontalPodAutoscaler when the flags want
// them, placed, sized (resources.go: defaults from the measured cost per 1,000 requests/s) and
// drained as the flags say.
//
// Objects is the single definition of those objects: apply sends them with server-side apply,
// --dry-run prints them, and deploy/waypoint is generated from them (make manifests).
package waypoint
