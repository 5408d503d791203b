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
	// Gateways holds the records of every member's shared gateways: the namespaces whose
	// waypoints records name each (see gatewayRecords).
	Gateways []store.Record
}

// DesiredRecords builds the store records for a merge result, with the store's conversions.
// Endpoint records of a stale member are marked stale; waypoint ports come from ports (see
// AllocatePorts).
func DesiredRecords(res *merge.Result, members []MemberState, ports map[portKey]int32) Desired {
	return desiredRecords(res, members, ports, nil)
}

// desiredRecords is DesiredRecords taking the records of unchanged services and exporters,
// and each cluster's list of endpoints records when none of them changed, from memo (when not
// nil).
func desiredRecords(res *merge.Result, members []MemberState, ports map[portKey]int32, memo *recordMemo) Desired {
	d := Desired{Endpoints: map[string][]store.Record{}}
	stale := map[string]bool{}
	for _, m := range members {
		stale[m.Cluster.Name] = m.Stale
		d.Clusters = append(d.Clusters, store.NewClusterRecord(&model.PublishedCluster{
			Cluster: m.Cluster, Ready: m.Ready && !m.Stale, LastSync: m.LastSync,
		}))
		d.Endpoints[m.Cluster.Name] = nil
	}
	if memo == nil {
		for i := range res.Services {
			svc := &res.Services[i]
			d.Services = append(d.Services, store.NewServiceRecord(published(&svc.Global, ports)))
			for j, ce := range svc.Endpoints {
				d.Endpoints[ce.Cluster] = append(d.Endpoints[ce.Cluster], store.NewEndpointsRecord(publishedEndpoints(svc, j, ce, stale)))
			}
		}
		return d
	}
	memo.begin()
	staleSame := memo.sameStale(stale)
	// touched are the clusters whose list of endpoints records may differ from the last pass's.
	touched := map[string]bool{}
	entries := make([]*memoService, len(res.Services))
	for i := range res.Services {
		svc := &res.Services[i]
		if kept := memo.made(svc, ports, staleSame); kept != nil {
			d.Services = append(d.Services, kept.r)
			entries[i] = kept
			continue
		}
		prev, next := memo.service(svc.Key(), len(svc.Endpoints))
		d.Services = append(d.Services, next.serviceRecord(prev, svc, ports))
		for j, ce := range svc.Endpoints {
			was := prev.exporter(j, ce.Cluster)
			if r := next.endpointsRecord(j, was, publishedEndpoints(svc, j, ce, stale), ce.Patch); was == nil || was.r != r {
				touched[ce.Cluster] = true
			}
		}
		if prev != nil {
			for j := range prev.endpoints {
				if c := prev.endpoints[j].cluster; next.exporter(j, c) == nil {
					touched[c] = true // no longer exports it
				}
			}
		}
		entries[i] = next
	}
	memo.end(touched)
	memo.lists(d.Endpoints, entries, touched)
	return d
}

// publishedEndpoints is exporter j's endpoints of svc (ce) as the store publishes them.
func publishedEndpoints(svc *merge.Service, j int, ce merge.ClusterEndpoints, stale map[string]bool) *model.PublishedEndpoints {
	g := &svc.Global
	return &model.PublishedEndpoints{
		Namespace: g.Namespace, Domain: g.Domain, Name: g.Name, Cluster: ce.Cluster,
		Scope: scopeOf(g, j, ce.Cluster), Stale: stale[ce.Cluster], Endpoints: ce.Endpoints,
	}
}

// published is the global service with its allocated waypoint ports.
func published(g *model.GlobalService, ports map[portKey]int32) *model.PublishedService {
	k := merge.KeyOf(g)
	wp := make([]int32, len(g.Ports))
	for i, p := range g.Ports {
		wp[i] = waypointPort(ports, k, p)
	}
	return &model.PublishedService{GlobalService: *g, WaypointPorts: wp}
}

// waypointPort is the waypoint port allocated for port p of the service of key k.
func waypointPort(ports map[portKey]int32, k merge.Key, p model.Port) int32 {
	return ports[portKey{svc: k, port: p.Port, protocol: p.Protocol}]
}

// hasWaypointPorts reports whether wp are the waypoint ports allocated for g's ports.
func hasWaypointPorts(wp []int32, g *model.GlobalService, ports map[portKey]int32) bool {
	if len(wp) != len(g.Ports) {
		return false
	}
	k := merge.KeyOf(g)
	for i, p := range g.Ports {
		if wp[i] != waypointPort(ports, k, p) {
			return false
		}
	}
	return true
}

// scopeOf is the scope of g's exporter cluster, expected at g.Exporters[i] (the merge lists
// the exporters and their endpoints in the same order); g's when it has no such exporter.
func scopeOf(g *model.GlobalService, i int, cluster string) model.Scope {
	if i < len(g.Exporters) && g.Exporters[i].Cluster == cluster {
		return g.Exporters[i].Scope
	}
	for _, e := range g.Exporters {
		if e.Cluster == cluster {
			return e.Scope
		}
	}
	return g.Scope
}
