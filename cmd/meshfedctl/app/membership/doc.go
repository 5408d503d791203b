// Package membership creates and removes what joining a member cluster to the hub takes: in the
// member a ServiceAccount with least-privilege RBAC and a token, on the hub a kubeconfig Secret
// for that ServiceAccount and the MemberCluster.
//
// The join and unjoin commands are thin wrappers over it, so tests drive the same code path.
package membership
