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

// DesiredRecords builds the store records for a merge result. Endpoint records of a stale
// member are marked stale; waypoint ports come from ports (see AllocatePorts).
func DesiredRecords(res *merge.Result, members []MemberState, ports map[portKey]int32) Desired {
	d := Desired{Endpoints: map[string][]store.Record{}}
	stale := map[string]bool{}
	for _, m := range members {
		stale[m.Cluster.Name] = m.Stale
		d.Clusters = append(d.Clusters, &store.ClusterRecord{
			Name: m.Cluster.Name, Network: m.Cluster.Network, Region: m.Cluster.Region,
			Segment: m.Cluster.Segment, Ready: m.Ready && !m.Stale, LastSync: m.LastSync,
		})
		d.Endpoints[m.Cluster.Name] = nil
	}
	for i := range res.Services {
		svc := &res.Services[i]
		g := &svc.Global
		d.Services = append(d.Services, serviceRecord(g, ports))
		for _, ce := range svc.Endpoints {
			d.Endpoints[ce.Cluster] = append(d.Endpoints[ce.Cluster], &store.EndpointsRecord{
				Namespace: g.Namespace, Domain: g.Domain, Name: g.Name, Cluster: ce.Cluster,
				Scope: scopeOf(g, ce.Cluster), Stale: stale[ce.Cluster], Endpoints: ce.Endpoints,
			})
		}
	}
	return d
}

func serviceRecord(g *model.GlobalService, ports map[portKey]int32) *store.ServiceRecord {
	k := merge.KeyOf(g)
	sp := make([]store.ServicePort, 0, len(g.Ports))
	for _, p := range g.Ports {
		sp = append(sp, store.ServicePort{Port: p, WaypointPort: ports[portKey{svc: k, port: p.Port, protocol: p.Protocol}]})
	}
	return &store.ServiceRecord{
		Namespace: g.Namespace, Name: g.Name, Domain: g.Domain, Hostname: g.Hostname,
		Scope: g.Scope, Takeover: g.Takeover, Type: g.Type, Ports: sp,
		Distribution: g.Distribution, Outlier: g.Outlier, Exporters: exportersOf(g.Exporters), Imports: g.Imports, Conflicts: g.Conflicts,
	}
}

// exportersOf lists the exporters with their scope but without endpoint counts: counts change
// with every readiness flip, and an endpoint change must rewrite only its cluster's endpoints
// key (DESIGN §4). The counts are in those keys and on the hub's GlobalService status.
func exportersOf(in []model.Exporter) []model.Exporter {
	out := make([]model.Exporter, len(in))
	for i, e := range in {
		out[i] = model.Exporter{Cluster: e.Cluster, Scope: e.Scope}
	}
	return out
}

func scopeOf(g *model.GlobalService, cluster string) model.Scope {
	for _, e := range g.Exporters {
		if e.Cluster == cluster {
			return e.Scope
		}
	}
	return g.Scope
}
