package clusters

import (
	"net/netip"
	"slices"
	"strconv"
	"testing"
)

func TestNewTopology(t *testing.T) {
	topo, err := NewTopology("mf", 3, 30, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name, network, node, transit, pods, services, dns string
		routes                                            []string
	}{
		{"cluster-1", NetworkA, "172.30.1.11", "172.30.0.11", "10.11.0.0/16", "10.101.0.0/16", "10.101.0.10", []string{"10.12.0.0/16=172.30.1.12"}},
		{"cluster-2", NetworkA, "172.30.1.12", "172.30.0.12", "10.12.0.0/16", "10.102.0.0/16", "10.102.0.10", []string{"10.11.0.0/16=172.30.1.11"}},
		{"cluster-3", NetworkB, "172.30.2.13", "172.30.0.13", "10.13.0.0/16", "10.103.0.0/16", "10.103.0.10", nil},
	}
	if len(topo.Clusters) != len(want) {
		t.Fatalf("got %d clusters, want %d", len(topo.Clusters), len(want))
	}
	for i, w := range want {
		c := topo.Clusters[i]
		if len(c.Nodes) != 1 {
			t.Fatalf("cluster %d: %d nodes, want 1", i+1, len(c.Nodes))
		}
		n := c.Nodes[0]
		got := []string{c.Name, c.Network, c.NodeIP.String(), c.TransitIP.String(), c.PodCIDR.String(),
			c.ServiceCIDR.String(), c.DNSIP.String()}
		if !slices.Equal(got, []string{w.name, w.network, w.node, w.transit, w.pods, w.services, w.dns}) || !slices.Equal(routes(n), w.routes) {
			t.Errorf("cluster %d = %v routes %v, want %+v", i+1, got, routes(n), w)
		}
		if c.Container != "mf-"+w.name || c.APIServerURL() != "https://"+w.transit+":6443" {
			t.Errorf("cluster %d: container %s, API %s", i+1, c.Container, c.APIServerURL())
		}
		if n.Name != c.NodeName || n.Container != c.Container || n.IP != c.NodeIP || n.TransitIP != c.TransitIP ||
			n.PodCIDR != c.PodCIDR || n.Worker || n.Dir != "node" {
			t.Errorf("cluster %d: control-plane node %+v does not match the cluster", i+1, n)
		}
	}
	nets := map[string]string{}
	for _, n := range topo.Networks {
		nets[n.Name] = n.Subnet.String()
	}
	if len(nets) != 3 || nets["mf-transit"] != "172.30.0.0/24" || nets["mf-net-a"] != "172.30.1.0/24" || nets["mf-net-b"] != "172.30.2.0/24" {
		t.Errorf("networks = %v", nets)
	}
	if topo.NetworkName(&topo.Clusters[2]) != "mf-net-b" || topo.TransitName() != "mf-transit" {
		t.Errorf("network names %s %s", topo.NetworkName(&topo.Clusters[2]), topo.TransitName())
	}
}

func routes(n Node) []string {
	var out []string
	for _, r := range n.Routes {
		out = append(out, r.Dst.String()+"="+r.Via.String())
	}
	return out
}

// TestTopologyWorkers checks the default set's workers: cluster-1's nodes take /24 slices of its
// pod CIDR and route to each other and to cluster-2's node, which routes to every one of them;
// network B routes to none.
func TestTopologyWorkers(t *testing.T) {
	topo, err := NewTopology("mf", 3, 30, DefaultWorkers)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name, container, ip, transit, pods, dir string
		worker                                  bool
		labels, taints                          []string
		routes                                  []string
	}{
		{"cluster-1-node", "mf-cluster-1", "172.30.1.11", "172.30.0.11", "10.11.0.0/24", "node", false, nil, nil,
			[]string{"10.11.1.0/24=172.30.1.111", "10.11.2.0/24=172.30.1.112", "10.11.3.0/24=172.30.1.113", "10.12.0.0/16=172.30.1.12"}},
		{"cluster-1-app", "mf-cluster-1-app", "172.30.1.111", "172.30.0.111", "10.11.1.0/24", "node-app", true, nil, nil,
			[]string{"10.11.0.0/24=172.30.1.11", "10.11.2.0/24=172.30.1.112", "10.11.3.0/24=172.30.1.113", "10.12.0.0/16=172.30.1.12"}},
		{"cluster-1-gateway-1", "mf-cluster-1-gateway-1", "172.30.1.112", "172.30.0.112", "10.11.2.0/24", "node-gateway-1", true,
			[]string{GatewayLabel}, []string{GatewayTaint},
			[]string{"10.11.0.0/24=172.30.1.11", "10.11.1.0/24=172.30.1.111", "10.11.3.0/24=172.30.1.113", "10.12.0.0/16=172.30.1.12"}},
		{"cluster-1-gateway-2", "mf-cluster-1-gateway-2", "172.30.1.113", "172.30.0.113", "10.11.3.0/24", "node-gateway-2", true,
			[]string{GatewayLabel}, []string{GatewayTaint},
			[]string{"10.11.0.0/24=172.30.1.11", "10.11.1.0/24=172.30.1.111", "10.11.2.0/24=172.30.1.112", "10.12.0.0/16=172.30.1.12"}},
	}
	c1 := topo.Clusters[0]
	if len(c1.Nodes) != len(want) || topo.NodeCount() != len(want)+2 {
		t.Fatalf("cluster-1 has %d nodes, the set %d; want %d and %d", len(c1.Nodes), topo.NodeCount(), len(want), len(want)+2)
	}
	for i, w := range want {
		n := c1.Nodes[i]
		got := []string{n.Name, n.Container, n.IP.String(), n.TransitIP.String(), n.PodCIDR.String(), n.Dir}
		if !slices.Equal(got, []string{w.name, w.container, w.ip, w.transit, w.pods, w.dir}) || n.Worker != w.worker ||
			!slices.Equal(n.Labels, w.labels) || !slices.Equal(n.Taints, w.taints) || !slices.Equal(routes(n), w.routes) {
			t.Errorf("node %d = %v worker %v labels %v taints %v routes %v, want %+v", i, got, n.Worker, n.Labels, n.Taints, routes(n), w)
		}
		if !c1.PodCIDR.Contains(n.PodCIDR.Addr()) {
			t.Errorf("%s: pod CIDR %s outside the cluster's %s", n.Name, n.PodCIDR, c1.PodCIDR)
		}
	}
	if got := routes(topo.Clusters[1].Nodes[0]); !slices.Equal(got, []string{"10.11.0.0/24=172.30.1.11",
		"10.11.1.0/24=172.30.1.111", "10.11.2.0/24=172.30.1.112", "10.11.3.0/24=172.30.1.113"}) {
		t.Errorf("cluster-2 routes %v, want one to each node of cluster-1", got)
	}
	if got := routes(topo.Clusters[2].Nodes[0]); got != nil {
		t.Errorf("cluster-3 (network B) routes %v, want none", got)
	}
}

// TestTopologyRangesDisjoint checks that no two clusters share a pod or service range, and that
// every range is inside 10.0.0.0/8, the block the nodes route nowhere but to their peers.
func TestTopologyRangesDisjoint(t *testing.T) {
	var workers []WorkerSpec
	for i := 1; i <= MaxClusters; i++ {
		for k := 1; k <= MaxWorkers; k++ {
			workers = append(workers, WorkerSpec{Cluster: i, Name: "w" + strconv.Itoa(k)})
		}
	}
	topo, err := NewTopology("mf", MaxClusters, 30, workers)
	if err != nil {
		t.Fatal(err)
	}
	ten := netip.MustParsePrefix("10.0.0.0/8")
	var ranges []netip.Prefix
	addrs := map[netip.Addr]int{}
	for _, c := range topo.Clusters {
		for _, p := range []netip.Prefix{c.PodCIDR, c.ServiceCIDR} {
			if !ten.Contains(p.Addr()) {
				t.Errorf("%s: %s outside %s", c.Name, p, ten)
			}
			for _, q := range ranges {
				if p.Overlaps(q) {
					t.Errorf("%s: %s overlaps %s", c.Name, p, q)
				}
			}
			ranges = append(ranges, p)
		}
		var nodeRanges []netip.Prefix
		for _, n := range c.Nodes {
			if !c.PodCIDR.Contains(n.PodCIDR.Addr()) || n.PodCIDR.Bits() < c.PodCIDR.Bits() {
				t.Errorf("%s: pod CIDR %s outside %s", n.Name, n.PodCIDR, c.PodCIDR)
			}
			for _, q := range nodeRanges {
				if n.PodCIDR.Overlaps(q) {
					t.Errorf("%s: pod CIDR %s overlaps %s", n.Name, n.PodCIDR, q)
				}
			}
			nodeRanges = append(nodeRanges, n.PodCIDR)
			addrs[n.IP]++
			addrs[n.TransitIP]++
		}
		if !c.ServiceCIDR.Contains(c.DNSIP) || !c.ServiceCIDR.Contains(c.APIServerIP) {
			t.Errorf("%s: DNS %s or API %s outside %s", c.Name, c.DNSIP, c.APIServerIP, c.ServiceCIDR)
		}
	}
	for a, n := range addrs {
		if n > 1 {
			t.Errorf("node address %s used %d times", a, n)
		}
	}
}

func TestTopologySingleCluster(t *testing.T) {
	topo, err := NewTopology("mf", 1, 30, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := topo.Clusters[0]; c.Network != NetworkA || len(c.Nodes[0].Routes) != 0 || len(topo.Networks) != 2 {
		t.Errorf("single cluster: network %s, routes %v, %d docker networks", c.Network, c.Nodes[0].Routes, len(topo.Networks))
	}
}

func TestTopologyRejects(t *testing.T) {
	for _, tc := range []struct{ n, base int }{{0, 30}, {MaxClusters + 1, 30}, {3, 15}, {3, 32}} {
		if _, err := NewTopology("mf", tc.n, tc.base, nil); err == nil {
			t.Errorf("NewTopology(n=%d, base=%d) succeeded", tc.n, tc.base)
		}
	}
	var tooMany []WorkerSpec
	for k := range MaxWorkers + 1 {
		tooMany = append(tooMany, WorkerSpec{Cluster: 1, Name: "w" + strconv.Itoa(k)})
	}
	for name, workers := range map[string][]WorkerSpec{
		"no such cluster": {{Cluster: 4, Name: "app"}},
		"cluster 0":       {{Cluster: 0, Name: "app"}},
		"bad name":        {{Cluster: 1, Name: "App_1"}},
		"twice":           {{Cluster: 1, Name: "app"}, {Cluster: 1, Name: "app"}},
		"too many":        tooMany,
		"label no value":  {{Cluster: 1, Name: "app", Labels: []string{"meshfed.io/gateway"}}},
		"label shell":     {{Cluster: 1, Name: "app", Labels: []string{"a=b c"}}},
		"taint no effect": {{Cluster: 1, Name: "app", Taints: []string{"meshfed.io/gateway=true"}}},
		"taint effect":    {{Cluster: 1, Name: "app", Taints: []string{"meshfed.io/gateway=true:Never"}}},
		"taint key":       {{Cluster: 1, Name: "app", Taints: []string{"$(reboot)=x:NoSchedule"}}},
	} {
		if _, err := NewTopology("mf", 3, 30, workers); err == nil {
			t.Errorf("%s: NewTopology succeeded with workers %+v", name, workers)
		}
	}
}
