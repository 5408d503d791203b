package peersbench

import (
	"net"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/benchmesh"
	"github.com/meshfed/meshfed/federation/store"
)

// TestCrossWaypointsApart: every cross-network pair at every worker count, the baseline
// pairs included, has addresses and clusters of its own, none shared with another process of
// the bench, and its two sides are on two networks.
func TestCrossWaypointsApart(t *testing.T) {
	used := map[string]string{peerIP: "peers", peerExitIP: "peers' backend sides"}
	for _, ip := range backendIPs3 {
		used[ip] = "backend"
	}
	for w := 1; w <= maxWorkers; w++ {
		used[waypointIP(w)], used[baselineIP(w)] = "waypoint", "baseline"
	}
	clusters := map[string]bool{cluster: true}
	pairs := map[kind]int{}
	for _, s := range subjects([]int{1, 2, 3, 4, 5, 6, 7, 8}, true, true) {
		if !s.isCrossWaypoint() {
			continue
		}
		pairs[s.kind]++
		entry, exit := crossWaypoints(s)
		for _, w := range []benchmesh.Waypoint{entry, exit} {
			if ip := net.ParseIP(w.Listen); ip == nil || !ip.IsLoopback() || ip.To4() == nil {
				t.Errorf("%s: %s listens on %s, not in 127.0.0.0/8", s.name(), w.Name, w.Listen)
			}
			if other, ok := used[w.Listen]; ok {
				t.Errorf("%s: %s listens on %s, as %s does", s.name(), w.Name, w.Listen, other)
			}
			used[w.Listen] = w.Name
			if clusters[w.Cluster] {
				t.Errorf("%s: cluster %s used twice", s.name(), w.Cluster)
			}
			clusters[w.Cluster] = true
		}
		if entry.Network == exit.Network || !exit.Inbound || entry.Inbound || entry.Transport != s.transport() || exit.Transport != s.transport() {
			t.Errorf("%s: client side %+v, backend side %+v", s.name(), entry, exit)
		}
	}
	for _, k := range []kind{kindWaypointH2, kindWaypointH3, kindBaselineH2, kindBaselineH3} {
		if pairs[k] != maxWorkers {
			t.Errorf("%d %s pairs, want one per worker count, %d", pairs[k], k, maxWorkers)
		}
	}
	if n := len(crossClusters(subjects([]int{1, 2}, false, true))); n != 8 {
		t.Errorf("crossClusters: %d, want two clusters for each of four pairs", n)
	}
	if n := len(crossClusters(subjects([]int{1, 2}, true, true))); n != 16 {
		t.Errorf("crossClusters with a baseline: %d, want two clusters for each of eight pairs", n)
	}
}

// TestCrossRecordsApart: with --baseline-binary every pair, the baseline pairs included, has
// a service, clusters and an HBONE address of its own in what the hub publishes, so that no
// pair carries another's traffic; a baseline pair runs the baseline binary, with the
// transport of the pair it is the baseline of.
func TestCrossRecordsApart(t *testing.T) {
	backends := []benchmesh.Addr{{IP: "127.0.0.31", Port: 9001}}
	seen := map[string]string{}
	once := func(s subject, what, v string) {
		t.Helper()
		if other, ok := seen[what+" "+v]; ok {
			t.Errorf("%s: %s %s, as %s's", s.name(), what, v, other)
		}
		seen[what+" "+v] = s.name()
	}
	for _, s := range subjects([]int{1, 2}, true, true) {
		if !s.isCrossWaypoint() {
			continue
		}
		entry, exit := crossWaypoints(s)
		s.addr, s.exit = benchmesh.Addr{IP: entry.Listen, Port: 7000}, benchmesh.Addr{IP: exit.Listen, Port: 15008}
		recs := crossRecords(s, backends)
		m := recs[0].(*store.ServiceRecord).Model()
		once(s, "service", m.Name)
		for _, imp := range m.Imports {
			once(s, "importing cluster", imp.Cluster)
			for _, from := range imp.From {
				once(s, "exporting cluster", from)
			}
		}
		once(s, "endpoints' cluster", recs[1].(*store.EndpointsRecord).Cluster)
		wps := recs[2].(*store.WaypointsRecord)
		once(s, "waypoints' cluster", wps.Cluster)
		for _, a := range wps.Addresses {
			once(s, "HBONE address", a)
		}
		if s.cluster() != exit.Cluster || s.isBaseline() != strings.HasPrefix(m.Name, "xnet-base-") {
			t.Errorf("%s: service %s, answers from %s, backend side in %s", s.name(), m.Name, s.cluster(), exit.Cluster)
		}
	}
	if len(seen) != 6*8 {
		t.Errorf("%d distinct names and addresses, want 6 for each of eight pairs", len(seen))
	}
	for _, s := range subjects([]int{1}, true, true) {
		base := strings.HasPrefix(s.name(), "waypoint-base")
		if bin := s.waypointBinary("/after", "/before"); (bin == "/before") != base {
			t.Errorf("%s runs %s", s.name(), bin)
		}
		if base && s.kind != kindBaseline && s.transport() != strings.TrimPrefix(string(s.kind), "waypoint-base-") {
			t.Errorf("%s: transport %s", s.name(), s.transport())
		}
	}
}

// TestCrossRecords: the pair's service is imported by its client side's cluster from its
// backend side's, whose endpoints are the backends on the other network, reached at its
// HBONE address.
func TestCrossRecords(t *testing.T) {
	s := subject{kind: kindWaypointH3, workers: 2,
		addr: benchmesh.Addr{IP: "127.0.0.82", Port: 7000}, exit: benchmesh.Addr{IP: "127.0.0.102", Port: 15008}}
	backends := []benchmesh.Addr{{IP: "127.0.0.31", Port: 9001}, {IP: "127.0.0.32", Port: 9002}}
	recs := crossRecords(s, backends)
	svc, ok := recs[0].(*store.ServiceRecord)
	if !ok {
		t.Fatalf("first record %T, want the service", recs[0])
	}
	if m := svc.Model(); m.Name != "xnet-h3-2" || len(m.WaypointPorts) != 1 || m.WaypointPorts[0] != 7000 ||
		len(m.Imports) != 1 || m.Imports[0].Cluster != "a-h3-2" || len(m.Imports[0].From) != 1 || m.Imports[0].From[0] != "b-h3-2" {
		t.Errorf("service %+v", m)
	}
	eps, ok := recs[1].(*store.EndpointsRecord)
	if !ok || eps.Cluster != "b-h3-2" || len(eps.Endpoints) != 2 || eps.Endpoints[0].Locality.Network != exitNetwork {
		t.Errorf("endpoints record %+v", recs[1])
	}
	wps, ok := recs[2].(*store.WaypointsRecord)
	if !ok || wps.Cluster != "b-h3-2" || wps.Network != exitNetwork || len(wps.Addresses) != 1 || wps.Addresses[0] != "127.0.0.102:15008" {
		t.Errorf("waypoints record %+v", recs[2])
	}
	if s.cluster() != "b-h3-2" {
		t.Errorf("answers expected from cluster %q, want the backend side's", s.cluster())
	}
}

// TestCrossPeerSides: a TLS peer's backend side listens on its exit address and sends to
// the backends; its client side listens for the client and sends to the backend side; each
// has a directory of its own.
func TestCrossPeerSides(t *testing.T) {
	s := subject{kind: kindNginxTLS, workers: 2, addr: benchmesh.Addr{IP: peerIP, Port: 8080}, exit: testExit}
	sides := crossPeerSides(s, testConfig.Backends, "/tmp/peers")
	if len(sides) != 2 {
		t.Fatalf("%d sides, want 2", len(sides))
	}
	b, a := sides[0], sides[1]
	if b.c.Listen != testExit || len(b.c.Backends) != 3 || a.c.Listen != s.addr || len(a.c.Backends) != 1 || a.c.Backends[0] != testExit {
		t.Errorf("backend side %+v, client side %+v", b.c, a.c)
	}
	if a.c.Dir == b.c.Dir || a.c.Workers != 2 || b.c.Workers != 2 || a.name != "nginx-tls-2-a" || b.name != "nginx-tls-2-b" {
		t.Errorf("sides %q in %s and %q in %s, workers %d and %d", a.name, a.c.Dir, b.name, b.c.Dir, a.c.Workers, b.c.Workers)
	}
}
