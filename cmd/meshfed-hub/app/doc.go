// Package app assembles the meshfed hub from its options: the federation store (embedded etcd
// or an external cluster), the controller-runtime manager, the Lease election that runs the
// member and federation reconcilers on one replica only, and the order in which a leader hands
// its work over when it stops (README.md in the command's directory).
package app
