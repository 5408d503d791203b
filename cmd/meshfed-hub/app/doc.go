// Package app assembles the meshfed hub from its options: the federation store (embedded etcd
// or an external cluster), the controller-runtime manager with leader election, and the
// member and federation reconcilers.
package app
