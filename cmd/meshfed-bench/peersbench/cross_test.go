package peersbench

import (
	"testing"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/benchmesh"
	"github.com/meshfed/meshfed/federation/store"
)

// TestCrossWaypointsApart: every cross-network pair at every worker count has addresses and
// clusters of its own, none shared with another process of the bench, and its two sides are
// on two networks.
func TestCrossWaypointsApart(t *testing.T) {
	used := map[string]string{peerIP: "peers", peerExitIP: "peers' backend sides", backendIPs3[0]: "backend"}
	for w := 1; w <= maxWorkers; w++ {
		used[waypointIP(w)], used[baselineIP(w)] = "waypoint", "baseline"
	}
	clusters := map[string]bool{cluster: true}
	for _, s := range subjects([]int{1, 2, 3, 4, 5, 6, 7, 8}, false, true) {
		if !s.isCrossWaypoint() {
			continue
		}
		entry, exit := crossWaypoints(s)
		for _, w := range []benchmesh.Waypoint{entry, exit} {
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
	if len(crossClusters(subjects([]int{1, 2}, false, true))) != 8 {
		t.Errorf("crossClusters: want two clusters for each of four pairs")
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
