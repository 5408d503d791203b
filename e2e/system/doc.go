// Package system runs the whole of meshfed for end-to-end tests and the demo: a hub API server
// and member API servers (e2e/framework), the real meshfed-hub, meshfed-waypoint, meshfedctl and
// meshfed-dns binaries built from the tree and run as processes, and pods, waypoints and clients
// inside the network namespaces of an e2e/netlab lab.
//
// The harness plays kubelet and kube-proxy, which the test API servers do not have: it creates
// Nodes with topology labels, runs backend processes inside pod namespaces (the test binary
// re-executed as an HTTP echo naming its cluster, zone and pod plus a TCP echo; Backend.Stop is
// a SIGKILL) and writes their EndpointSlices (ready, starting, or serving-but-terminating as a
// deleted pod in its grace period), runs each waypoint inside a waypoint pod, and resolves a derived Service to
// its local waypoint pod's address (a client dials the waypoint pod on the allocated waypoint
// port, as kube-proxy would forward the derived Service's ClusterIP).
//
// Names are real: each member has a DNS pod (dns.go) running CoreDNS, whose Corefile is the
// member's kube-system/coredns ConfigMap as the hub edits it (followed every 200 ms and
// reloaded with SIGUSR1, as CoreDNS's reload plugin does), and meshfed-dns, reading the
// member's ServiceImports. A client (names.go) resolves a host name with Go's resolver, its
// queries sent from inside its pod to its member's CoreDNS, and the harness stands in for
// kube-proxy from the Service IP it gets to one ready endpoint; an IP address is dialed as it
// is. Only two lines of the Corefile differ from the ConfigMap (LabCorefile): the kubernetes
// plugin's kubeconfig, and the meshfed-dns Service's ClusterIP replaced by the DNS pod's address.
// Both programs reach the member's API server at its loopback address inside the DNS pod, where
// the test process relays their connections (TLS end to end) to the API server on the host.
//
// The hub runs as deploy/hub-embedded does (one process embedding its store) or, with
// HubConfig.Replicas > 1, as deploy/hub does (replicas electing a leader, the store an etcd
// process of its own). The embedded store serves mutual TLS with etcd auth, as deployed: each
// waypoint gets its store client certificate from the hub's CA Secret as meshfedctl waypoint
// apply issues it, and the tests read the store with the hub's own certificate. The external
// etcd of the replicated hub is plain HTTP. A Churn changes EndpointSlices in the members at a fixed rate and
// measures how long each change takes to reach the store.
//
// Addresses: API servers and the hub's health endpoints on loopback; the store (embedded or
// not) on the lab's host address (the transit network), where waypoints reach it; pods on their
// network's subnet; waypoints also on transit, where other networks reach their HBONE port.
package system
