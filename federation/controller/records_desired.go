package controller

import (
	"cmp"
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
	staleSame := memo.sameStale(stale)
	for i := range res.Services {
		svc := &res.Services[i]
		g := &svc.Global
		if kept := memo.made(svc, ports, staleSame); kept != nil {
			d.Services = append(d.Services, kept.r)
			for _, r := range kept.endpoints {
				d.Endpoints[r.cluster] = append(d.Endpoints[r.cluster], r.r)
			}
			continue
		}
		prev, next := memo.service(svc.Key(), len(svc.Endpoints))
		d.Services = append(d.Services, next.serviceRecord(prev, svc, ports))
		for j, ce := range svc.Endpoints {
			d.Endpoints[ce.Cluster] = append(d.Endpoints[ce.Cluster], next.endpointsRecord(j, prev.exporter(j, ce.Cluster), &model.PublishedEndpoints{
				Namespace: g.Namespace, Domain: g.Domain, Name: g.Name, Cluster: ce.Cluster,
				Scope: scopeOf(g, j, ce.Cluster), Stale: stale[ce.Cluster], Endpoints: ce.Endpoints,
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

// recordMemo keeps the records a pass built for each service, with what each was built from.
// For an endpoints record: the same endpoints slice (the merge hands over the same copy while
// an exporter's export did not change, see merge.Memo) and the same other fields. For a
// service record: the merge that built the service (merge.Service.Built) and its waypoint
// ports. A pass then takes the records of an unchanged service and of its unchanged exporters
// as they are instead of converting them again, and the store's writer, handed the same
// (frozen) records, reuses their encodings or compares the digests it kept of them. Records
// not used by a pass are dropped at its end. Only the loop's goroutine uses it.
type recordMemo struct {
	services map[merge.Key]*memoService
	pass     uint64 // the number of the pass running
	// stale is which members were stale in the last pass (their endpoints records say so).
	stale map[string]bool
}

// memoService is what the memo keeps of one service: its record, and its exporters' endpoints
// records in the merge's order (by cluster).
type memoService struct {
	built     uint64
	made      uint64 // the merge that made the service, its endpoints included (merge.Service.Made)
	ports     []int32
	r         *store.ServiceRecord
	endpoints []memoRecord
	used      uint64 // the last pass that used it
}

// memoRecord is one exporter's endpoints record and what it was built from: every field of
// the record but its endpoints, and its endpoints slice.
type memoRecord struct {
	cluster string
	scope   model.Scope
	stale   bool
	eps     []model.Endpoint
	r       *store.EndpointsRecord
}

func (m *recordMemo) begin() {
	if m != nil {
		m.pass++
	}
}

func (m *recordMemo) end() {
	if m != nil {
		maps.DeleteFunc(m.services, func(_ merge.Key, s *memoService) bool { return s.used != m.pass })
	}
}

// service returns the memo's entry of service k (nil when none) and the entry this pass keeps
// in its place, for n exporters; both nil without a memo.
func (m *recordMemo) service(k merge.Key, n int) (prev, next *memoService) {
	if m == nil {
		return nil, nil
	}
	prev = m.services[k]
	next = &memoService{endpoints: make([]memoRecord, n), used: m.pass}
	if m.services == nil {
		m.services = map[merge.Key]*memoService{}
	}
	m.services[k] = next
	return prev, next
}

// sameStale reports whether the members are stale as in the last pass, and keeps stale for the
// next; false without a memo.
func (m *recordMemo) sameStale(stale map[string]bool) bool {
	if m == nil {
		return false
	}
	same := m.stale != nil && maps.Equal(m.stale, stale)
	m.stale = stale
	return same
}

// made returns the memo's entry of svc, which this pass keeps as it is, when it holds the
// records of the same merge of the whole service (merge.Service.Made), with the same waypoint
// ports, and the members are stale as then (staleSame): a merge hands over a service no
// changed cluster exports as it made it, and its records are then the same. Nil otherwise.
func (m *recordMemo) made(svc *merge.Service, ports map[portKey]int32, staleSame bool) *memoService {
	if m == nil || !staleSame || svc.Made == 0 {
		return nil
	}
	s := m.services[svc.Key()]
	if s == nil || s.made != svc.Made || !hasWaypointPorts(s.ports, &svc.Global, ports) {
		return nil
	}
	s.used = m.pass
	return s
}

// serviceRecord is the record of svc with its waypoint ports from ports: prev's when prev
// holds the record of the same merge of the service (merge.Service.Built) with the same
// ports. s, the entry this pass keeps (nil without a memo), keeps it.
func (s *memoService) serviceRecord(prev *memoService, svc *merge.Service, ports map[portKey]int32) *store.ServiceRecord {
	if s == nil {
		return store.NewServiceRecord(published(&svc.Global, ports))
	}
	s.made = svc.Made
	if prev != nil && svc.Built != 0 && prev.built == svc.Built && hasWaypointPorts(prev.ports, &svc.Global, ports) {
		s.built, s.ports, s.r = prev.built, prev.ports, prev.r // nothing built for an unchanged service
		return s.r
	}
	p := published(&svc.Global, ports)
	s.built, s.ports, s.r = svc.Built, p.WaypointPorts, store.NewServiceRecord(p).Freeze()
	return s.r
}

// exporter returns s's endpoints record of cluster, expected at position i; nil when s is nil
// or has none.
func (s *memoService) exporter(i int, cluster string) *memoRecord {
	if s == nil {
		return nil
	}
	if i < len(s.endpoints) && s.endpoints[i].cluster == cluster {
		return &s.endpoints[i]
	}
	j, ok := slices.BinarySearchFunc(s.endpoints, cluster, func(r memoRecord, c string) int { return cmp.Compare(r.cluster, c) })
	if !ok {
		return nil
	}
	return &s.endpoints[j]
}

// endpointsRecord is store.NewEndpointsRecord(pe): prev's record when prev (the memo's record
// of the same exporter, or nil) holds the record of the same fields and the same endpoints
// slice, patched from prev's record when the endpoints are a patch of prev's (the merge says
// so, see merge.ClusterEndpoints.Patch). s, the entry this pass keeps (nil without a memo),
// keeps it as its i-th.
func (s *memoService) endpointsRecord(i int, prev *memoRecord, pe *model.PublishedEndpoints, patch *model.EndpointsPatch) *store.EndpointsRecord {
	if s == nil {
		return store.NewEndpointsRecord(pe)
	}
	same := prev != nil && prev.cluster == pe.Cluster && prev.scope == pe.Scope && prev.stale == pe.Stale
	var r *store.EndpointsRecord
	switch {
	case same && model.SameEndpoints(prev.eps, pe.Endpoints):
		r = prev.r
	case same && patch != nil && model.SameEndpoints(prev.eps, patch.Base):
		r = store.NewEndpointsRecordAfter(prev.r, pe, patch).Freeze()
	default:
		r = store.NewEndpointsRecord(pe).Freeze()
	}
	s.endpoints[i] = memoRecord{cluster: pe.Cluster, scope: pe.Scope, stale: pe.Stale, eps: pe.Endpoints, r: r}
	return r
}
