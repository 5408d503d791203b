package waypointbench

import (
	"github.com/meshfed/meshfed/cmd/meshfed-bench/benchmesh"
	"github.com/meshfed/meshfed/federation/store"
)

// The benchmark's mesh, all on loopback. Networks are a store-level notion: a waypoint
// tunnels to an endpoint whose record names another network than its own, even though every
// address is on lo.
//
//	client ─► backend 127.0.0.31                                          (direct)
//	client ─► relay 127.0.0.14 ─► backend                 (reference: a bare TCP relay process)
//	client ─► A-same 127.0.0.11 ─► backend                               (cluster a, n1)
//	client ─► A-h2 127.0.0.12 ══h2══► B 127.0.0.21 (cluster b, n2) ─► backend
//	client ─► A-h3 127.0.0.13 ══h3══► C 127.0.0.22 (cluster c, n2) ─► backend
//
// Each path has its own waypoint processes so that the CPU and memory of each are the path's.
// Every A waypoint imports all three services (and so listens on all three ports, on its own
// address); only one of them carries load in a phase.
const (
	backendIP = "127.0.0.31"
	relayIP   = "127.0.0.14"
)

// Service names, one per measured waypoint path.
const (
	svcSame = "same"
	svcH2   = "xnet-h2"
	svcH3   = "xnet-h3"
)

// node is one process of the mesh: a waypoint, or the reference relay.
type node struct {
	benchmesh.Waypoint
	// relay marks the reference hop: a tcprelay process, not a waypoint, listening on
	// Listen:<relay port> and relaying to the backend.
	relay bool
}

var (
	nodeSame = node{Waypoint: benchmesh.Waypoint{Name: "A-same", Cluster: "a", Network: "n1", Listen: "127.0.0.11", Transport: "h2"}}
	nodeA2   = node{Waypoint: benchmesh.Waypoint{Name: "A-h2", Cluster: "a", Network: "n1", Listen: "127.0.0.12", Transport: "h2"}}
	nodeA3   = node{Waypoint: benchmesh.Waypoint{Name: "A-h3", Cluster: "a", Network: "n1", Listen: "127.0.0.13", Transport: "h3"}}
	nodeB    = node{Waypoint: benchmesh.Waypoint{Name: "B", Cluster: "b", Network: "n2", Listen: "127.0.0.21", Inbound: true, Transport: "h2"}}
	nodeC    = node{Waypoint: benchmesh.Waypoint{Name: "C", Cluster: "c", Network: "n2", Listen: "127.0.0.22", Inbound: true, Transport: "h3"}}
	// nodeRelay is the reference hop of the path "relay".
	nodeRelay = node{Waypoint: benchmesh.Waypoint{Name: "relay", Listen: relayIP}, relay: true}
)

// pathSpec is one measured path: where the client sends, which cluster must answer (the
// waypoint's X-Meshfed-Cluster; "" for direct and relay) and the processes on the way.
type pathSpec struct {
	name    string
	service string // "" for direct and relay
	entry   node   // the waypoint the client sends to
	cluster string
	nodes   []node
}

func paths(skipH3 bool) []pathSpec {
	ps := []pathSpec{
		{name: "direct"},
		{name: "relay", entry: nodeRelay, nodes: []node{nodeRelay}},
		{name: "same-network", service: svcSame, entry: nodeSame, cluster: "a", nodes: []node{nodeSame}},
		{name: "cross-network/h2", service: svcH2, entry: nodeA2, cluster: "b", nodes: []node{nodeA2, nodeB}},
	}
	if !skipH3 {
		ps = append(ps, pathSpec{name: "cross-network/h3", service: svcH3, entry: nodeA3, cluster: "c", nodes: []node{nodeA3, nodeC}})
	}
	return ps
}

// endpointsRecord is n's cluster's one ready endpoint of service: the backend.
func endpointsRecord(service string, n node, backendPort int32) *store.EndpointsRecord {
	return benchmesh.EndpointsRecord(service, n.Cluster, n.Network, []benchmesh.Addr{{IP: backendIP, Port: backendPort}})
}

// records are everything the hub would publish for the mesh: three services, their endpoints
// and the HBONE addresses of clusters b and c.
func records(ports map[string]int32, backendPort int32, hbone map[string]string) []store.Record {
	return []store.Record{
		benchmesh.ServiceRecord(svcSame, ports[svcSame], "a", "a"),
		benchmesh.ServiceRecord(svcH2, ports[svcH2], "a", "b"),
		benchmesh.ServiceRecord(svcH3, ports[svcH3], "a", "c"),
		endpointsRecord(svcSame, nodeSame, backendPort),
		endpointsRecord(svcH2, nodeB, backendPort),
		endpointsRecord(svcH3, nodeC, backendPort),
		&store.WaypointsRecord{Namespace: benchmesh.Namespace, Cluster: "b", Network: "n2", Addresses: []string{hbone[nodeB.Name]}},
		&store.WaypointsRecord{Namespace: benchmesh.Namespace, Cluster: "c", Network: "n2", Addresses: []string{hbone[nodeC.Name]}},
	}
}

// adminPort is the admin port of waypoints that are profiled (--profile-dir), on their
// listen host.
const adminPort = 15021

// adminURL is n's admin server when it is profiled.
func (n node) adminURL() string { return "http://" + benchmesh.HostPort(n.Listen, adminPort) }

// args are the command line of n's waypoint process; profiled adds its admin server with
// the profiling handlers.
func (n node) args(etcd []string, certDir, hboneAddr string, profiled bool) []string {
	admin := ""
	if profiled {
		admin = benchmesh.HostPort(n.Listen, adminPort)
	}
	return n.Args(etcd, certDir, hboneAddr, admin)
}

// relayArgs are the command line of the reference relay, listening on port and relaying to
// the backend.
func relayArgs(port, backendPort int32) []string {
	return []string{"--listen", benchmesh.HostPort(relayIP, port), "--upstream", benchmesh.HostPort(backendIP, backendPort)}
}
