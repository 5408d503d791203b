package clusters

import (
	"fmt"
	"net/netip"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Docker networks of a set of clusters, prefixed with the set's name.
const (
	NetworkA = "net-a"
	NetworkB = "net-b"
	// transit is the network every node is on: the clusters' API servers and the addresses a
	// node exposes (NodePorts) are reached there.
	transit = "transit"
)

// MaxClusters bounds a set: cluster i uses the pod CIDR 10.(10+i).0.0/16 and the service CIDR
// 10.(100+i).0.0/16, and its node the host number 10+i on each Docker network.
const MaxClusters = 9

// Cluster is one cluster of a set: where it sits and the addresses it uses. Its first node runs
// the control plane (and takes pods too); worker nodes, if any, follow.
type Cluster struct {
	// Name is the cluster's name (cluster-1, cluster-2, ...), also its meshfed member name.
	Name string
	// Index counts from 1.
	Index int
	// Network is NetworkA or NetworkB: pods of clusters on the same network reach each other.
	Network string
	// Region and Zone label every node (topology.kubernetes.io/region and /zone).
	Region, Zone string
	// Container is the Docker container of the control-plane node; NodeName is its Kubernetes
	// Node (the same as Nodes[0]).
	Container, NodeName string
	// NodeIP is the control-plane node's address on its network; TransitIP its address on the
	// transit network, where the API server and NodePorts are reached from the host and from
	// other clusters.
	NodeIP, TransitIP netip.Addr
	// PodCIDR and ServiceCIDR are the cluster's own ranges (each node takes a slice of PodCIDR);
	// DNSIP is CoreDNS's Service address.
	PodCIDR, ServiceCIDR netip.Prefix
	APIServerIP, DNSIP   netip.Addr
	// Nodes are the cluster's nodes, the control-plane node first.
	Nodes []Node
}

// Node is one node of a cluster: a Docker container from the node image.
type Node struct {
	// Name is the Kubernetes Node; Container its Docker container.
	Name, Container string
	// Worker is false for the control-plane node (etcd, kube-apiserver, kube-controller-manager,
	// kube-scheduler, kubelet, kube-proxy) and true for a worker (kubelet and kube-proxy only,
	// joining the control-plane node's API server).
	Worker bool
	// IP is the node's address on its cluster's network, TransitIP on the transit network.
	IP, TransitIP netip.Addr
	// PodCIDR is the slice of the cluster's pod CIDR the node's pods take their addresses from:
	// all of it on a single-node cluster, 10.(10+i).j.0/24 for node j (from 0) otherwise.
	PodCIDR netip.Prefix
	// Labels (KEY=VALUE) and Taints (KEY=VALUE:EFFECT) the kubelet registers the node with,
	// besides the cluster's region and zone.
	Labels, Taints []string
	// Routes lead to the pod CIDRs of every other node on the same network, through that node.
	Routes []Route
	// Dir is the node's directory in its cluster's state directory, mounted at /etc/kubernetes.
	Dir string
}

// Route sends the packets for Dst to the node at Via.
type Route struct {
	Dst netip.Prefix
	Via netip.Addr
}

// WorkerSpec asks for a worker node in a cluster of a set.
type WorkerSpec struct {
	// Cluster is the cluster's index, from 1.
	Cluster int
	// Name ends the node's name: cluster-<i>-<Name>.
	Name string
	// Labels (KEY=VALUE) and Taints (KEY=VALUE:EFFECT) of the node.
	Labels, Taints []string
}

// The label and taint of the dedicated gateway nodes, where waypoints go with
// `meshfedctl waypoint apply --node-selector meshfed.io/gateway=true --toleration meshfed.io/gateway`.
const (
	GatewayLabel = "meshfed.io/gateway=true"
	GatewayTaint = "meshfed.io/gateway=true:NoSchedule"
)

// DefaultWorkers are the worker nodes of a default set: cluster-1 gets a second application
// node (its control-plane node is the first) and two dedicated gateway nodes, labeled and
// tainted so that only pods that select and tolerate them run there. Two gateway nodes, so that
// one can be drained while the other keeps the waypoints running (a disruption budget refuses
// to evict the last one).
var DefaultWorkers = []WorkerSpec{
	{Cluster: 1, Name: "app"},
	{Cluster: 1, Name: "gateway-1", Labels: []string{GatewayLabel}, Taints: []string{GatewayTaint}},
	{Cluster: 1, Name: "gateway-2", Labels: []string{GatewayLabel}, Taints: []string{GatewayTaint}},
}

// MaxWorkers bounds the worker nodes of one cluster: worker k (from 1) of cluster i has the host
// number 100+10i+k on each Docker network.
const MaxWorkers = 9

// APIServerURL is the API server as the host and other clusters' pods reach it.
func (c *Cluster) APIServerURL() string {
	return "https://" + netip.AddrPortFrom(c.TransitIP, apiServerPort).String()
}

// apiServerPort is kube-apiserver's secure port on every node.
const apiServerPort = 6443

// Subnets of the Docker networks; a set takes the third octet from its Topology.
type dockerNet struct {
	Name   string
	Subnet netip.Prefix
}

// Topology is the layout of a set of n clusters: the last cluster is on network B, the others on
// network A (a single cluster is on A).
type Topology struct {
	// Prefix names the set's containers and networks (<prefix>-<cluster>, <prefix>-net-a, ...).
	Prefix   string
	Clusters []Cluster
	Networks []dockerNet
}

// NewTopology lays out n clusters for the set named prefix, with the worker nodes workers asks
// for. subnetBase is the second octet of the set's Docker subnets 172.<subnetBase>.{0,1,2}.0/24
// (transit, net-a, net-b).
func NewTopology(prefix string, n, subnetBase int, workers []WorkerSpec) (Topology, error) {
	if n < 1 || n > MaxClusters {
		return Topology{}, fmt.Errorf("failed to lay out %d clusters: want 1 to %d", n, MaxClusters)
	}
	if subnetBase < 16 || subnetBase > 31 {
		return Topology{}, fmt.Errorf("failed to lay out subnets 172.%d.0.0/16: want 172.16-31", subnetBase)
	}
	subnet := func(third int) netip.Prefix {
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{172, byte(subnetBase), byte(third), 0}), 24)
	}
	t := Topology{Prefix: prefix, Networks: []dockerNet{
		{Name: prefix + "-" + transit, Subnet: subnet(0)},
		{Name: prefix + "-" + NetworkA, Subnet: subnet(1)},
	}}
	if n > 1 {
		t.Networks = append(t.Networks, dockerNet{Name: prefix + "-" + NetworkB, Subnet: subnet(2)})
	}
	for i := 1; i <= n; i++ {
		c := Cluster{Name: fmt.Sprintf("cluster-%d", i), Index: i, Network: NetworkA, Region: "region-a",
			Zone: fmt.Sprintf("zone-a%d", i)}
		third := 1
		if n > 1 && i == n {
			c.Network, c.Region, c.Zone, third = NetworkB, "region-b", "zone-b1", 2
		}
		c.Container = prefix + "-" + c.Name
		c.NodeName = c.Name + "-node"
		c.NodeIP = hostAddr(subnet(third), 10+i)
		c.TransitIP = hostAddr(subnet(0), 10+i)
		c.PodCIDR = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(10 + i), 0, 0}), 16)
		c.ServiceCIDR = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(100 + i), 0, 0}), 16)
		c.APIServerIP = hostAddr(c.ServiceCIDR, 1)
		c.DNSIP = hostAddr(c.ServiceCIDR, 10)
		c.Nodes = []Node{{Name: c.NodeName, Container: c.Container, IP: c.NodeIP, TransitIP: c.TransitIP,
			PodCIDR: c.PodCIDR, Dir: "node"}}
		t.Clusters = append(t.Clusters, c)
	}
	if err := t.addWorkers(workers, subnet); err != nil {
		return Topology{}, err
	}
	for i := range t.Clusters {
		for k := range t.Clusters[i].Nodes {
			n := &t.Clusters[i].Nodes[k]
			for j := range t.Clusters {
				if t.Clusters[i].Network != t.Clusters[j].Network {
					continue
				}
				for _, peer := range t.Clusters[j].Nodes {
					if peer.Name != n.Name {
						n.Routes = append(n.Routes, Route{Dst: peer.PodCIDR, Via: peer.IP})
					}
				}
			}
		}
	}
	return t, nil
}

// addWorkers adds the worker nodes to their clusters and, in a cluster with workers, gives each
// node a /24 slice of the cluster's pod CIDR.
func (t *Topology) addWorkers(workers []WorkerSpec, subnet func(third int) netip.Prefix) error {
	for _, w := range workers {
		if w.Cluster < 1 || w.Cluster > len(t.Clusters) {
			return fmt.Errorf("failed to add worker %q: no cluster %d in a set of %d", w.Name, w.Cluster, len(t.Clusters))
		}
		if errs := validation.IsDNS1123Label(w.Name); len(errs) > 0 {
			return fmt.Errorf("failed to add worker %q: %s", w.Name, strings.Join(errs, "; "))
		}
		if err := checkLabelsTaints(w); err != nil {
			return err
		}
		c := &t.Clusters[w.Cluster-1]
		k := len(c.Nodes) // the worker's number, from 1
		if k > MaxWorkers {
			return fmt.Errorf("failed to add worker %q to %s: at most %d workers", w.Name, c.Name, MaxWorkers)
		}
		name := c.Name + "-" + w.Name
		for _, n := range c.Nodes {
			if n.Name == name {
				return fmt.Errorf("failed to add worker %q to %s: a node %s exists", w.Name, c.Name, name)
			}
		}
		third := c.NodeIP.As4()[2]
		c.Nodes = append(c.Nodes, Node{Name: name, Container: t.Prefix + "-" + name, Worker: true,
			IP: hostAddr(subnet(int(third)), 100+10*c.Index+k), TransitIP: hostAddr(subnet(0), 100+10*c.Index+k),
			Labels: w.Labels, Taints: w.Taints, Dir: "node-" + w.Name})
	}
	for i := range t.Clusters {
		c := &t.Clusters[i]
		if len(c.Nodes) == 1 {
			continue
		}
		for j := range c.Nodes {
			a := c.PodCIDR.Addr().As4()
			a[2] = byte(j)
			c.Nodes[j].PodCIDR = netip.PrefixFrom(netip.AddrFrom4(a), 24)
		}
	}
	return nil
}

// checkLabelsTaints checks a worker's labels (KEY=VALUE) and taints (KEY=VALUE:EFFECT) as the
// API server would, so that node.env (a shell file) gets nothing else.
func checkLabelsTaints(w WorkerSpec) error {
	check := func(kind, item, kv string) error {
		k, v, ok := strings.Cut(kv, "=")
		errs := validation.IsQualifiedName(k)
		errs = append(errs, validation.IsValidLabelValue(v)...)
		if !ok || len(errs) > 0 {
			return fmt.Errorf("failed to add worker %q: invalid %s %q: want KEY=VALUE: %s", w.Name, kind, item, strings.Join(errs, "; "))
		}
		return nil
	}
	for _, l := range w.Labels {
		if err := check("label", l, l); err != nil {
			return err
		}
	}
	for _, taint := range w.Taints {
		kv, effect, _ := strings.Cut(taint, ":")
		switch effect {
		case "NoSchedule", "PreferNoSchedule", "NoExecute":
		default:
			return fmt.Errorf("failed to add worker %q: taint %q: effect %q is not NoSchedule, PreferNoSchedule or NoExecute", w.Name, taint, effect)
		}
		if err := check("taint", taint, kv); err != nil {
			return err
		}
	}
	return nil
}

// NodeCount is the number of nodes of every cluster of the set together.
func (t *Topology) NodeCount() int {
	n := 0
	for i := range t.Clusters {
		n += len(t.Clusters[i].Nodes)
	}
	return n
}

// NetworkName is the Docker network of a cluster's own network.
func (t *Topology) NetworkName(c *Cluster) string { return t.Prefix + "-" + c.Network }

// TransitName is the Docker network every node is on.
func (t *Topology) TransitName() string { return t.Prefix + "-" + transit }

// hostAddr is the address with host number h in the IPv4 prefix p.
func hostAddr(p netip.Prefix, h int) netip.Addr {
	a := p.Masked().Addr().As4()
	a[2] += byte(h >> 8)
	a[3] += byte(h)
	return netip.AddrFrom4(a)
}
