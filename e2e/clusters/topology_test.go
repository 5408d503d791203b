package clusters

import (
	"net/netip"
	"slices"
	"testing"
)

func TestNewTopology(t *testing.T) {
	topo, err := NewTopology("mf", 3, 30)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name, network, node, transit, pods, services, dns string
		peers                                             []string
	}{
		{"cluster-1", NetworkA, "172.30.1.11", "172.30.0.11", "10.11.0.0/16", "10.101.0.0/16", "10.101.0.10", []string{"10.12.0.0/16"}},
		{"cluster-2", NetworkA, "172.30.1.12", "172.30.0.12", "10.12.0.0/16", "10.102.0.0/16", "10.102.0.10", []string{"10.11.0.0/16"}},
		{"cluster-3", NetworkB, "172.30.2.13", "172.30.0.13", "10.13.0.0/16", "10.103.0.0/16", "10.103.0.10", nil},
	}
	if len(topo.Clusters) != len(want) {
		t.Fatalf("got %d clusters, want %d", len(topo.Clusters), len(want))
	}
	for i, w := range want {
		c := topo.Clusters[i]
		var peers []string
		for _, p := range c.PeerPodCIDRs {
			peers = append(peers, p.String())
		}
		got := []string{c.Name, c.Network, c.NodeIP.String(), c.TransitIP.String(), c.PodCIDR.String(),
			c.ServiceCIDR.String(), c.DNSIP.String()}
		if !slices.Equal(got, []string{w.name, w.network, w.node, w.transit, w.pods, w.services, w.dns}) || !slices.Equal(peers, w.peers) {
			t.Errorf("cluster %d = %v peers %v, want %+v", i+1, got, peers, w)
		}
		if c.Container != "mf-"+w.name || c.APIServerURL() != "https://"+w.transit+":6443" {
			t.Errorf("cluster %d: container %s, API %s", i+1, c.Container, c.APIServerURL())
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

// TestTopologyRangesDisjoint checks that no two clusters share a pod or service range, and that
// every range is inside 10.0.0.0/8, the block the nodes route nowhere but to their peers.
func TestTopologyRangesDisjoint(t *testing.T) {
	topo, err := NewTopology("mf", MaxClusters, 30)
	if err != nil {
		t.Fatal(err)
	}
	ten := netip.MustParsePrefix("10.0.0.0/8")
	var ranges []netip.Prefix
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
		if !c.ServiceCIDR.Contains(c.DNSIP) || !c.ServiceCIDR.Contains(c.APIServerIP) {
			t.Errorf("%s: DNS %s or API %s outside %s", c.Name, c.DNSIP, c.APIServerIP, c.ServiceCIDR)
		}
	}
}

func TestTopologySingleCluster(t *testing.T) {
	topo, err := NewTopology("mf", 1, 30)
	if err != nil {
		t.Fatal(err)
	}
	if c := topo.Clusters[0]; c.Network != NetworkA || len(c.PeerPodCIDRs) != 0 || len(topo.Networks) != 2 {
		t.Errorf("single cluster: network %s, peers %v, %d docker networks", c.Network, c.PeerPodCIDRs, len(topo.Networks))
	}
}

func TestTopologyRejects(t *testing.T) {
	for _, tc := range []struct{ n, base int }{{0, 30}, {MaxClusters + 1, 30}, {3, 15}, {3, 32}} {
		if _, err := NewTopology("mf", tc.n, tc.base); err == nil {
			t.Errorf("NewTopology(n=%d, base=%d) succeeded", tc.n, tc.base)
		}
	}
}
