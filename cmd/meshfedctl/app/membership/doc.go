// Package membership creates and removes what joining a member cluster to the hub takes: in the
// member a ServiceAccount with least-privilege RBAC and a token, on the hub a kubeconfig Secret
// for that ServiceAccount and the MemberCluster.
//
// One cluster is joined once: Join reads the member's cluster ID (its kube-system Namespace
// UID), refuses a cluster the hub has under another name and, without Options.Force, a move of
// an existing member. Objects written into a member list the joins that use them (JoinID) in
// the meshfed.io/owners annotation, and Unjoin deletes only what no other join still uses.
//
// The join and unjoin commands are thin wrappers over it, so tests drive the same code path.
package membership
