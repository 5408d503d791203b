package peersbench

import (
	"fmt"
	"net"
	"strconv"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/benchmesh"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/hbone"
)

// The cross-network waypoints, as `meshfed-bench waypoint`'s cross-network paths: for each
// transport and worker count a pair of its own, the client side A in cluster a-<t>-N on
// network n1 and the backend side B in cluster b-<t>-N on network n2, so that each pair's
// CPU and memory are its path's alone. A imports the pair's service from B's cluster, whose
// endpoints are the three backends on n2: A tunnels each request to B's HBONE address,
// B sends it to a backend. With --baseline-binary each transport also has a baseline pair
// per worker count, both sides the baseline binary, in clusters a-base-<t>-N and
// b-base-<t>-N and on addresses of its own.
//
//	client ─► A 127.0.0.7N  (a-h2-N, n1)      ══HBONE h2══► B 127.0.0.9N  (b-h2-N, n2)      ─► backends
//	client ─► A 127.0.0.8N  (a-h3-N, n1)      ══HBONE h3══► B 127.0.0.10N (b-h3-N, n2)      ─► backends
//	client ─► A 127.0.0.11N (a-base-h2-N, n1) ══HBONE h2══► B 127.0.0.13N (b-base-h2-N, n2) ─► backends
//	client ─► A 127.0.0.12N (a-base-h3-N, n1) ══HBONE h3══► B 127.0.0.14N (b-base-h3-N, n2) ─► backends
const exitNetwork = "n2"

// transport is the HBONE transport of a cross-network waypoint subject: h3 or h2.
func (s subject) transport() string {
	if s.kind == kindWaypointH3 || s.kind == kindBaselineH3 {
		return "h3"
	}
	return "h2"
}

// pairName is the part of s's clusters and service that tells its pair apart: "h2-1", or
// "base-h2-1" for a baseline pair.
func (s subject) pairName() string {
	name := s.transport() + "-" + strconv.Itoa(s.workers)
	if s.isBaseline() {
		name = "base-" + name
	}
	return name
}

// crossIPBase is where the addresses of s's pair start: with N workers its client side
// listens on 127.0.0.<base+N>, its backend side on 127.0.0.<base+20+N> (the plan above).
func (s subject) crossIPBase() int {
	base := 70
	if s.transport() == "h3" {
		base = 80
	}
	if s.isBaseline() {
		base += 40
	}
	return base
}

// entryCluster is the cluster of s's client-side waypoint, exitCluster its backend side's.
func (s subject) entryCluster() string { return "a-" + s.pairName() }

func (s subject) exitCluster() string { return "b-" + s.pairName() }

// crossService is the service only s's client-side waypoint imports.
func (s subject) crossService() string { return "xnet-" + s.pairName() }

// crossWaypoints are the two waypoints of cross-network subject s: the client side, which
// listens for the client, and the backend side, which serves HBONE.
func crossWaypoints(s subject) (entry, exit benchmesh.Waypoint) {
	base := s.crossIPBase()
	entryIP, exitIP := "127.0.0."+strconv.Itoa(base+s.workers), "127.0.0."+strconv.Itoa(base+20+s.workers)
	entry = benchmesh.Waypoint{Name: s.fileName() + "-a", Cluster: s.entryCluster(), Network: network, Listen: entryIP, Transport: s.transport()}
	exit = benchmesh.Waypoint{Name: s.fileName() + "-b", Cluster: s.exitCluster(), Network: exitNetwork, Listen: exitIP, Inbound: true, Transport: s.transport()}
	return entry, exit
}

// crossClusters are the clusters of the cross-network waypoints among subjects, each
// needing its certificate.
func crossClusters(subjects []subject) []string {
	var out []string
	for _, s := range subjects {
		if s.isCrossWaypoint() {
			out = append(out, s.entryCluster(), s.exitCluster())
		}
	}
	return out
}

// allocateCross picks the service port of cross-network waypoint subject s on its client
// side's address, into s.addr, and its backend side's HBONE address (free for TCP and UDP),
// into s.exit.
func allocateCross(s *subject) error {
	entry, exit := crossWaypoints(*s)
	port, err := benchmesh.FreePort(entry.Listen)
	if err != nil {
		return err
	}
	tcp, udp, err := hbone.Listen(net.JoinHostPort(exit.Listen, "0"))
	if err != nil {
		return fmt.Errorf("failed to find an HBONE port on %s: %w", exit.Listen, err)
	}
	hbonePort := tcp.Addr().(*net.TCPAddr).Port
	_ = tcp.Close()
	_ = udp.Close()
	s.addr = benchmesh.Addr{IP: entry.Listen, Port: port}
	s.exit = benchmesh.Addr{IP: exit.Listen, Port: int32(hbonePort)}
	return nil
}

// crossRecords are what the hub would publish for cross-network waypoint subject s, once
// allocated: its service, imported by the client side's cluster from the backend side's,
// the backends as the backend side's endpoints on the other network, and that side's HBONE
// address.
func crossRecords(s subject, backends []benchmesh.Addr) []store.Record {
	return []store.Record{
		benchmesh.ServiceRecord(s.crossService(), s.addr.Port, s.entryCluster(), s.exitCluster()),
		benchmesh.EndpointsRecord(s.crossService(), s.exitCluster(), exitNetwork, backends),
		&store.WaypointsRecord{
			Namespace: benchmesh.Namespace, Cluster: s.exitCluster(), Network: exitNetwork,
			Addresses: []string{benchmesh.HostPort(s.exit.IP, s.exit.Port)},
		},
	}
}

// crossWaypointArgs are the command lines of s's backend-side and client-side waypoints,
// in the order to start them.
func crossWaypointArgs(s subject, etcd []string, certDir string) (names []string, args [][]string) {
	entry, exit := crossWaypoints(s)
	return []string{exit.Name, entry.Name}, [][]string{
		exit.Args(etcd, certDir, benchmesh.HostPort(s.exit.IP, s.exit.Port), ""),
		entry.Args(etcd, certDir, "", ""),
	}
}
