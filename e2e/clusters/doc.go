// Package clusters brings up real Kubernetes clusters in Docker, so that meshfed can be installed
// and tested where users run it. A cluster's control-plane node is a container that runs etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, kubelet and kube-proxy as processes
// next to containerd; its worker nodes (cluster-1 has an application node and two dedicated
// gateway nodes by default) run containerd, kubelet and kube-proxy only. CoreDNS runs as a pod
// and every image is built locally.
//
// The clusters sit on two networks (see README.md): on network A the clusters' pod IPs reach each
// other; the cluster on network B is reachable from A only through its node's address on a
// transit network. Tests call ForTest; `make clusters` and `make clusters-down` call Up and Down.
package clusters
