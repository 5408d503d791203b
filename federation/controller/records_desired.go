package controller

import (
	"time"

	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
)

// MemberState is what the hub knows of one member besides its exports.
type MemberState struct {
	Cluster  model.Cluster
	Ready    bool
	Stale    bool
	LastSync time.Time
}

// Desired is the federation store content the hub wants, by the selector that owns it.
type Desired struct {
	Clusters []store.Record
	// Services holds every service record, all namespaces.
	Services []store.Record
	// Endpoints holds each exporting cluster's endpoint records, by cluster.
	Endpoints map[string][]store.Record
	// Waypoints holds every member's waypoint records (see member.Waypoints).
	Waypoints []store.Record
}

// DesiredRecords builds the store records for a merge result, with the store's conversions.
// Endpoint records of a stale member are marked stale; waypoint ports come from ports (see
// AllocatePorts).
func DesiredRecords(res *merge.Result, members []MemberState, ports map[portKey]int32) Desired {
	d := Desired{Endpoints: map[string][]store.Record{}}
	stale := map[string]bool{}
	for _, m := range members {
		stale[m.Cluster.Name] = m.Stale
		d.Clusters = append(d.Clusters, store.NewClusterRecord(&model.PublishedCluster{
			Cluster: m.Cluster, Ready: m.Ready && !m.Stale, LastSync: m.LastSync,
		}))
		d.Endpoints[m.Cluster.Name] = nil
	}
	for i := range res.Services {
		svc := &res.Services[i]
		g := &svc.Global
		d.Services = append(d.Services, store.NewServiceRecord(published(g, ports)))
		for _, ce := range svc.Endpoints {
			d.Endpoints[ce.Cluster] = append(d.Endpoints[ce.Cluster], store.NewEndpointsRecord(&model.PublishedEndpoints{
				Namespace: g.Namespace, Domain: g.Domain, Name: g.Name, Cluster: ce.Cluster,
				Scope: scopeOf(g, ce.Cluster), Stale: stale[ce.Cluster], Endpoints: ce.Endpoints,
			}))
		}
	}
	return d
}

// published is the global service with its allocated waypoint ports.
func published(g *model.GlobalService, ports map[portKey]int32) *model.PublishedService {
	k := merge.KeyOf(g)
	wp := make([]int32, len(g.Ports))
	for i, p := range g.Ports {
		wp[i] = ports[portKey{svc: k, port: p.Port, protocol: p.Protocol}]
	}
	return &model.PublishedService{GlobalService: *g, WaypointPorts: wp}
}

func scopeOf(g *model.GlobalService, cluster string) model.Scope {
	for _, e := range g.Exporters {
		if e.Cluster == cluster {
			return e.Scope
		}
	}
	return g.Scope
}
