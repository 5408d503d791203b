// Package clusters brings up real single-node Kubernetes clusters, each a Docker container that
// runs etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet and kube-proxy as
// processes next to containerd, with CoreDNS as a pod and every image built locally, so that
// meshfed can be installed and tested where users run it.
//
// The clusters sit on two networks (see README.md): on network A the clusters' pod IPs reach each
// other; the cluster on network B is reachable from A only through its node's address on a
// transit network. Tests call ForTest; `make clusters` and `make clusters-down` call Up and Down.
package clusters
