package controller

import (
	"maps"
	"slices"
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

// desiredRecords is DesiredRecords taking the endpoints records of unchanged exporters from
// memo (when not nil).
func desiredRecords(res *merge.Result, members []MemberState, ports map[portKey]int32, memo *recordMemo) Desired {
	memo.begin()
	defer memo.end()
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
		d.Services = append(d.Services, memo.serviceRecord(svc, ports))
		for _, ce := range svc.Endpoints {
			d.Endpoints[ce.Cluster] = append(d.Endpoints[ce.Cluster], memo.endpointsRecord(&model.PublishedEndpoints{
				Namespace: g.Namespace, Domain: g.Domain, Name: g.Name, Cluster: ce.Cluster,
				Scope: scopeOf(g, ce.Cluster), Stale: stale[ce.Cluster], Endpoints: ce.Endpoints,
			}, ce.Patch))
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

// recordMemo keeps the endpoints records a pass built, with what each was built from: the
// same endpoints slice (the merge hands over the same copy while an exporter's export did not
// change, see merge.Memo) and the same other fields. A pass then takes the record of an
// unchanged exporter as it is instead of converting its endpoints again, and the store's
// writer, handed the same (frozen) record, reuses its encoding. Records not used by a pass are
// dropped at its end. Only the loop's goroutine uses it.
//
// It keeps each service record too, with the merge that built the service
// (merge.Service.Built) and its waypoint ports: while the merge keeps a service, the pass
// takes its record, which the writer knows by the digest of its encoding.
type recordMemo struct {
	m    map[endpointsMeta]memoRecord
	used map[endpointsMeta]bool

	services     map[merge.Key]memoService
	servicesUsed map[merge.Key]bool
}

// memoService is a service record and what it was built from.
type memoService struct {
	built uint64
	ports []int32
	r     *store.ServiceRecord
}

// endpointsMeta is every field of an endpoints record but its endpoints.
type endpointsMeta struct {
	namespace, domain, name, cluster string
	scope                            model.Scope
	stale                            bool
}

type memoRecord struct {
	eps []model.Endpoint
	r   *store.EndpointsRecord
}

func (m *recordMemo) begin() {
	if m != nil {
		m.used, m.servicesUsed = map[endpointsMeta]bool{}, map[merge.Key]bool{}
	}
}

func (m *recordMemo) end() {
	if m == nil {
		return
	}
	maps.DeleteFunc(m.m, func(k endpointsMeta, _ memoRecord) bool { return !m.used[k] })
	maps.DeleteFunc(m.services, func(k merge.Key, _ memoService) bool { return !m.servicesUsed[k] })
	m.used, m.servicesUsed = nil, nil
}

// serviceRecord is the record of svc with its waypoint ports from ports, from the memo when
// it holds the record of the same merge of the service (merge.Service.Built) with the same
// ports.
func (m *recordMemo) serviceRecord(svc *merge.Service, ports map[portKey]int32) *store.ServiceRecord {
	p := published(&svc.Global, ports)
	if m == nil {
		return store.NewServiceRecord(p)
	}
	k := svc.Key()
	m.servicesUsed[k] = true
	if e, ok := m.services[k]; ok && svc.Built != 0 && e.built == svc.Built && slices.Equal(e.ports, p.WaypointPorts) {
		return e.r
	}
	r := store.NewServiceRecord(p).Freeze()
	if m.services == nil {
		m.services = map[merge.Key]memoService{}
	}
	m.services[k] = memoService{built: svc.Built, ports: p.WaypointPorts, r: r}
	return r
}

// endpointsRecord is store.NewEndpointsRecord(pe), from the memo when it holds the record of
// the same fields and the same endpoints slice, and patched from the memo's record when the
// endpoints are a patch of the memo's (the merge says so, see merge.ClusterEndpoints.Patch).
func (m *recordMemo) endpointsRecord(pe *model.PublishedEndpoints, patch *model.EndpointsPatch) *store.EndpointsRecord {
	if m == nil {
		return store.NewEndpointsRecord(pe)
	}
	k := endpointsMeta{namespace: pe.Namespace, domain: pe.Domain, name: pe.Name, cluster: pe.Cluster, scope: pe.Scope, stale: pe.Stale}
	m.used[k] = true
	e, ok := m.m[k]
	if ok && sameEndpoints(e.eps, pe.Endpoints) {
		return e.r
	}
	var r *store.EndpointsRecord
	if ok && patch != nil && sameEndpoints(e.eps, patch.Base) {
		r = store.NewEndpointsRecordAfter(e.r, pe, patch).Freeze()
	} else {
		r = store.NewEndpointsRecord(pe).Freeze()
	}
	if m.m == nil {
		m.m = map[endpointsMeta]memoRecord{}
	}
	m.m[k] = memoRecord{eps: pe.Endpoints, r: r}
	return r
}

// sameEndpoints reports whether a and b are the same slice (not merely equal contents).
func sameEndpoints(a, b []model.Endpoint) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
