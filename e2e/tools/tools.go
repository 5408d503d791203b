//go:build tools

// Package tools pins the main packages of the test binaries (kube-apiserver
// and etcd) so that this module's go.mod and go.sum record every dependency
// they need.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
