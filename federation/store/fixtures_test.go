package store

import (
	"fmt"
	"time"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
)

func clusterRecord(name string) *ClusterRecord {
	return NewClusterRecord(&model.PublishedCluster{
		Cluster: model.Cluster{Name: name, Network: "net-" + name, Region: "eu-west-1", Segment: "default"}, Ready: true,
		LastSync: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC),
	})
}

func serviceRecord(ns, name string) *ServiceRecord {
	return NewServiceRecord(&model.PublishedService{
		GlobalService: model.GlobalService{
			Namespace: ns, Name: name, Domain: wellknown.DefaultSegmentDomain,
			Hostname: name + "." + ns + "." + wellknown.DefaultSegmentDomain,
			Scope:    model.ScopeGlobal, Type: model.ServiceTypeClusterSetIP,
			Ports:        []model.Port{{Name: "http", Port: 80, Protocol: "TCP", AppProtocol: "http"}},
			Distribution: model.Distribution{Mode: model.ModePreferClose},
			Exporters:    []model.Exporter{{Cluster: "east", Scope: model.ScopeGlobal, Endpoints: 2, Ready: 2}},
			Imports:      []model.Import{{Cluster: "west", From: []string{"east"}}},
			Conflicts:    []model.Conflict{{Reason: model.ReasonPortConflict, Message: "port 80 differs", Clusters: []string{"east", "west"}}},
		},
		WaypointPorts: []int32{20000},
	})
}

// endpointsRecord is cluster's slice of ns/name with n ready endpoints.
func endpointsRecord(ns, name, cluster string, n int) *EndpointsRecord {
	e := &model.PublishedEndpoints{Namespace: ns, Domain: wellknown.DefaultSegmentDomain, Name: name, Cluster: cluster, Scope: model.ScopeGlobal}
	for i := range n {
		e.Endpoints = append(e.Endpoints, model.Endpoint{
			Address:  fmt.Sprintf("10.%d.%d.%d", len(cluster), i/250, i%250+1),
			Ports:    []model.EndpointPort{{Name: "http", Port: 8080}},
			Locality: model.Locality{Network: "net-" + cluster, Region: "eu-west-1", Zone: "eu-west-1a", Node: fmt.Sprintf("node-%d", i), Cluster: cluster},
			Ready:    true, Serving: true, Weight: 1,
		})
	}
	return NewEndpointsRecord(e)
}

func waypointsRecord(ns, cluster string) *WaypointsRecord {
	return NewWaypointsRecord(&model.PublishedWaypoints{Namespace: ns, Cluster: cluster, Network: "net-" + cluster, Addresses: []string{"192.0.2.10:15008", "wp.example.com:15008"}})
}

// largeEndpointsRecord is cluster's slice of ns/name with n endpoints as a real cluster has
// them: pod IPs, EC2-style node names over 3 zones, one named port; every seventh endpoint is
// not ready. About 240 bytes an endpoint.
func largeEndpointsRecord(ns, name, cluster string, n int) *EndpointsRecord {
	return NewEndpointsRecord(largeEndpoints(ns, name, cluster, n))
}

// largeEndpoints is the model value largeEndpointsRecord stores.
func largeEndpoints(ns, name, cluster string, n int) *model.PublishedEndpoints {
	e := &model.PublishedEndpoints{Namespace: ns, Domain: wellknown.DefaultSegmentDomain, Name: name, Cluster: cluster, Scope: model.ScopeGlobal}
	zones := []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}
	for i := range n {
		node := i / 30
		e.Endpoints = append(e.Endpoints, model.Endpoint{
			Address: fmt.Sprintf("10.%d.%d.%d", 100+i/65536, i/256%256, i%256),
			Ports:   []model.EndpointPort{{Name: "http", Port: 8080}},
			Locality: model.Locality{
				Network: "net-" + cluster, Region: "eu-west-1", Zone: zones[node%3],
				Node: fmt.Sprintf("ip-10-%d-%d-%d.eu-west-1.compute.internal", 20+node/65536, node/256%256, node%256), Cluster: cluster,
			},
			Ready: i%7 != 0, Serving: true,
		})
	}
	return e
}
