package clusters

import (
	"fmt"
	"net/netip"
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

// Cluster is one single-node cluster of a set: where it sits and the addresses it uses.
type Cluster struct {
	// Name is the cluster's name (cluster-1, cluster-2, ...), also its meshfed member name.
	Name string
	// Index counts from 1.
	Index int
	// Network is NetworkA or NetworkB: pods of clusters on the same network reach each other.
	Network string
	// Region and Zone label the node (topology.kubernetes.io/region and /zone).
	Region, Zone string
	// Container is the Docker container of the node; NodeName is its Kubernetes Node.
	Container, NodeName string
	// NodeIP is the node's address on its network; TransitIP its address on the transit network,
	// where the API server and NodePorts are reached from the host and from other clusters.
	NodeIP, TransitIP netip.Addr
	// PodCIDR and ServiceCIDR are the cluster's own ranges; DNSIP is CoreDNS's Service address.
	PodCIDR, ServiceCIDR netip.Prefix
	APIServerIP, DNSIP   netip.Addr
	// PeerPodCIDRs are the pod CIDRs of the other clusters on the same network, routed through
	// their nodes (PeerNodeIPs, same order).
	PeerPodCIDRs []netip.Prefix
	PeerNodeIPs  []netip.Addr
}

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

// NewTopology lays out n clusters for the set named prefix. subnetBase is the second octet of the
// set's Docker subnets 172.<subnetBase>.{0,1,2}.0/24 (transit, net-a, net-b).
func NewTopology(prefix string, n, subnetBase int) (Topology, error) {
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
		t.Clusters = append(t.Clusters, c)
	}
	for i := range t.Clusters {
		for j := range t.Clusters {
			if i != j && t.Clusters[i].Network == t.Clusters[j].Network {
				t.Clusters[i].PeerPodCIDRs = append(t.Clusters[i].PeerPodCIDRs, t.Clusters[j].PodCIDR)
				t.Clusters[i].PeerNodeIPs = append(t.Clusters[i].PeerNodeIPs, t.Clusters[j].NodeIP)
			}
		}
	}
	return t, nil
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
