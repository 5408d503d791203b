//go:build tools

// Package tools pins the main packages of the test binaries so that this
// module's go.mod and go.sum record every dependency they need: kube-apiserver
// and etcd for envtest, and the rest of a node (kubelet, kube-proxy,
// kube-controller-manager, kube-scheduler, kubectl) for the real clusters of
// e2e/clusters.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
