package waypointbench

import (
	"path/filepath"
	"strconv"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/hbone/identity"
	"github.com/meshfed/meshfed/waypoint"
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
	namespace   = "bench"
	backendIP   = "127.0.0.31"
	relayIP     = "127.0.0.14"
	portName    = "http"
	trustDomain = waypoint.DefaultTrustDomain
)

// Service names, one per measured waypoint path.
const (
	svcSame = "same"
	svcH2   = "xnet-h2"
	svcH3   = "xnet-h3"
)

// node is one waypoint process of the mesh.
type node struct {
	name      string
	cluster   string
	network   string
	listen    string // outbound listeners' host
	inbound   bool   // serves HBONE on listen:<port>
	transport string // outbound tunnel transport
	// relay marks the reference hop: a tcprelay process, not a waypoint, listening on
	// listen:<relay port> and relaying to the backend.
	relay bool
}

var (
	nodeSame = node{name: "A-same", cluster: "a", network: "n1", listen: "127.0.0.11", transport: "h2"}
	nodeA2   = node{name: "A-h2", cluster: "a", network: "n1", listen: "127.0.0.12", transport: "h2"}
	nodeA3   = node{name: "A-h3", cluster: "a", network: "n1", listen: "127.0.0.13", transport: "h3"}
	nodeB    = node{name: "B", cluster: "b", network: "n2", listen: "127.0.0.21", inbound: true, transport: "h2"}
	nodeC    = node{name: "C", cluster: "c", network: "n2", listen: "127.0.0.22", inbound: true, transport: "h3"}
	// nodeRelay is the reference hop of the path "relay".
	nodeRelay = node{name: "relay", listen: relayIP, relay: true}
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

// serviceRecord is a global HTTP service imported by cluster a from the exporting cluster.
func serviceRecord(name string, waypointPort int32, from string) *store.ServiceRecord {
	return store.NewServiceRecord(&model.PublishedService{
		GlobalService: model.GlobalService{
			Namespace: namespace, Name: name, Domain: wellknown.DefaultSegmentDomain,
			Hostname: name + "." + namespace + "." + wellknown.DefaultSegmentDomain,
			Scope:    model.ScopeGlobal, Type: model.ServiceTypeClusterSetIP,
			Ports:        []model.Port{{Name: portName, Port: 80, Protocol: "TCP", AppProtocol: "http"}},
			Distribution: model.Distribution{Mode: model.ModeAny},
			Imports:      []model.Import{{Cluster: "a", From: []string{from}}},
		},
		WaypointPorts: []int32{waypointPort},
	})
}

// endpointsRecord is the exporting cluster's one ready endpoint: the backend.
func endpointsRecord(service string, n node, backendPort int32) *store.EndpointsRecord {
	return store.NewEndpointsRecord(&model.PublishedEndpoints{
		Namespace: namespace, Domain: wellknown.DefaultSegmentDomain, Name: service, Cluster: n.cluster,
		Scope: model.ScopeGlobal,
		Endpoints: []model.Endpoint{{
			Address: backendIP, Ports: []model.EndpointPort{{Name: portName, Port: backendPort}},
			Locality: model.Locality{Network: n.network, Region: "r1", Zone: "z1", Node: "bench", Cluster: n.cluster},
			Ready:    true, Serving: true, Weight: 1,
		}},
	})
}

// records are everything the hub would publish for the mesh: three services, their endpoints
// and the HBONE addresses of clusters b and c.
func records(ports map[string]int32, backendPort int32, hbone map[string]string) []store.Record {
	return []store.Record{
		serviceRecord(svcSame, ports[svcSame], "a"),
		serviceRecord(svcH2, ports[svcH2], "b"),
		serviceRecord(svcH3, ports[svcH3], "c"),
		endpointsRecord(svcSame, nodeSame, backendPort),
		endpointsRecord(svcH2, nodeB, backendPort),
		endpointsRecord(svcH3, nodeC, backendPort),
		&store.WaypointsRecord{Namespace: namespace, Cluster: "b", Network: "n2", Addresses: []string{hbone[nodeB.name]}},
		&store.WaypointsRecord{Namespace: namespace, Cluster: "c", Network: "n2", Addresses: []string{hbone[nodeC.name]}},
	}
}

// adminPort is the admin port of waypoints that are profiled (--profile-dir), on their
// listen host.
const adminPort = 15021

// adminURL is n's admin server when it is profiled.
func (n node) adminURL() string { return "http://" + hostPort(n.listen, adminPort) }

// args are the command line of n's waypoint process; profiled adds its admin server with
// the profiling handlers.
func (n node) args(etcd []string, certDir, hboneAddr string, profiled bool) []string {
	if !n.inbound {
		hboneAddr = "0"
	}
	a := []string{"--admin-address", "0"}
	if profiled {
		a = []string{"--admin-address", hostPort(n.listen, adminPort), "--profiling"}
	}
	a = append(a,
		"--namespace", namespace, "--cluster", n.cluster, "--network", n.network,
		"--region", "r1", "--zone", "z1", "--node", "bench",
		"--listen-host", n.listen, "--log-level", "warn", "--allow-loopback-endpoints",
		"--trust-domain", trustDomain, "--hbone-address", hboneAddr, "--hbone-transport", n.transport,
		"--cert-file", filepath.Join(certDir, n.cluster, identity.CertFileName),
		"--key-file", filepath.Join(certDir, n.cluster, identity.KeyFileName),
		"--ca-file", filepath.Join(certDir, n.cluster, identity.CAFileName),
	)
	for _, e := range etcd {
		a = append(a, "--etcd-endpoints", e)
	}
	return a
}

func hostPort(host string, port int32) string { return host + ":" + strconv.Itoa(int(port)) }

// relayArgs are the command line of the reference relay, listening on port and relaying to
// the backend.
func relayArgs(port, backendPort int32) []string {
	return []string{"--listen", hostPort(relayIP, port), "--upstream", hostPort(backendIP, backendPort)}
}
