package benchmesh

import (
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/waypoint"
)

// The benchmarks' namespace, port name and trust domain.
const (
	Namespace   = "bench"
	PortName    = "http"
	TrustDomain = waypoint.DefaultTrustDomain
)

// Addr is one backend's address.
type Addr struct {
	IP   string
	Port int32
}

// ServiceRecord is a global HTTP service (appProtocol http, so a waypoint balances per
// request) imported by cluster importer from cluster from, at waypointPort.
func ServiceRecord(name string, waypointPort int32, importer, from string) *store.ServiceRecord {
	return store.NewServiceRecord(&model.PublishedService{
		GlobalService: model.GlobalService{
			Namespace: Namespace, Name: name, Domain: wellknown.DefaultSegmentDomain,
			Hostname: name + "." + Namespace + "." + wellknown.DefaultSegmentDomain,
			Scope:    model.ScopeGlobal, Type: model.ServiceTypeClusterSetIP,
			Ports:        []model.Port{{Name: PortName, Port: 80, Protocol: "TCP", AppProtocol: "http"}},
			Distribution: model.Distribution{Mode: model.ModeAny},
			Imports:      []model.Import{{Cluster: importer, From: []string{from}}},
		},
		WaypointPorts: []int32{waypointPort},
	})
}

// EndpointsRecord is cluster's ready endpoints of service on network: the backends, all in
// one zone.
func EndpointsRecord(service, cluster, network string, backends []Addr) *store.EndpointsRecord {
	eps := make([]model.Endpoint, 0, len(backends))
	for _, b := range backends {
		eps = append(eps, model.Endpoint{
			Address: b.IP, Ports: []model.EndpointPort{{Name: PortName, Port: b.Port}},
			Locality: model.Locality{Network: network, Region: "r1", Zone: "z1", Node: "bench", Cluster: cluster},
			Ready:    true, Serving: true, Weight: 1,
		})
	}
	return store.NewEndpointsRecord(&model.PublishedEndpoints{
		Namespace: Namespace, Domain: wellknown.DefaultSegmentDomain, Name: service, Cluster: cluster,
		Scope: model.ScopeGlobal, Endpoints: eps,
	})
}
