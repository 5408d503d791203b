package controller

import (
	"cmp"
	"maps"
	"slices"

	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
)

// recordMemo keeps the records a pass built for each service, with what each was built from.
// For an endpoints record: the same endpoints slice (the merge hands over the same copy while
// an exporter's export did not change, see merge.Memo) and the same other fields. For a
// service record: the merge that built the service (merge.Service.Built) and its waypoint
// ports. A pass then takes the records of an unchanged service and of its unchanged exporters
// as they are instead of converting them again, and the store's writer, handed the same
// (frozen) records, reuses their encodings or compares the digests it kept of them. A service
// the merge hands over as it made it (merge.Service.Made) keeps its records whole, without its
// exporters being looked at; and a cluster none of whose endpoints records changed gets the
// last pass's list of them (Desired.Endpoints) back. Records not used by a pass are dropped
// at its end. Only the loop's goroutine uses it.
type recordMemo struct {
	services map[merge.Key]*memoService
	pass     uint64 // the number of the pass running
	// stale is which members were stale in the last pass (their endpoints records say so).
	stale map[string]bool
	// last are the last pass's lists of endpoints records, by cluster (Desired.Endpoints).
	last map[string][]store.Record
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

func (m *recordMemo) begin() { m.pass++ }

// end drops the services the pass did not use; the clusters that exported them are touched.
func (m *recordMemo) end(touched map[string]bool) {
	maps.DeleteFunc(m.services, func(_ merge.Key, s *memoService) bool {
		if s.used == m.pass {
			return false
		}
		for _, r := range s.endpoints {
			touched[r.cluster] = true
		}
		return true
	})
}

// lists puts each cluster's endpoints records into out, in the order of the services whose
// memo entries are entries: the last pass's list for a cluster not touched, a list made from
// the entries for one touched. A cluster without records is left out, unless out names it
// (a member). It keeps the lists for the next pass.
func (m *recordMemo) lists(out map[string][]store.Record, entries []*memoService, touched map[string]bool) {
	for c, l := range m.last {
		if !touched[c] {
			out[c] = l
		}
	}
	for c := range touched {
		var l []store.Record
		for _, e := range entries {
			if r := e.exporter(-1, c); r != nil {
				l = append(l, r.r)
			}
		}
		if _, member := out[c]; len(l) > 0 || member {
			out[c] = l
		}
	}
	m.last = maps.Clone(out)
}

// service returns the memo's entry of service k (nil when none) and the entry this pass keeps
// in its place, for n exporters.
func (m *recordMemo) service(k merge.Key, n int) (prev, next *memoService) {
	prev = m.services[k]
	next = &memoService{endpoints: make([]memoRecord, n), used: m.pass}
	if m.services == nil {
		m.services = map[merge.Key]*memoService{}
	}
	m.services[k] = next
	return prev, next
}

// sameStale reports whether the members are stale as in the last pass, and keeps stale for the
// next.
func (m *recordMemo) sameStale(stale map[string]bool) bool {
	same := m.stale != nil && maps.Equal(m.stale, stale)
	m.stale = stale
	return same
}

// made returns the memo's entry of svc, which this pass keeps as it is, when it holds the
// records of the same merge of the whole service (merge.Service.Made), with the same waypoint
// ports, and the members are stale as then (staleSame): a merge hands over a service no
// changed cluster exports as it made it, and its records are then the same. Nil otherwise.
func (m *recordMemo) made(svc *merge.Service, ports map[portKey]int32, staleSame bool) *memoService {
	if !staleSame || svc.Made == 0 {
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
// ports. s, the entry this pass keeps, keeps it.
func (s *memoService) serviceRecord(prev *memoService, svc *merge.Service, ports map[portKey]int32) *store.ServiceRecord {
	s.made = svc.Made
	if prev != nil && svc.Built != 0 && prev.built == svc.Built && hasWaypointPorts(prev.ports, &svc.Global, ports) {
		s.built, s.ports, s.r = prev.built, prev.ports, prev.r // nothing built for an unchanged service
		return s.r
	}
	p := published(&svc.Global, ports)
	s.built, s.ports, s.r = svc.Built, p.WaypointPorts, store.NewServiceRecord(p).Freeze()
	return s.r
}

// exporter returns s's endpoints record of cluster, expected at position i (-1: anywhere); nil
// when s is nil or has none.
func (s *memoService) exporter(i int, cluster string) *memoRecord {
	if s == nil {
		return nil
	}
	if i >= 0 && i < len(s.endpoints) && s.endpoints[i].cluster == cluster {
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
// so, see merge.ClusterEndpoints.Patch). s, the entry this pass keeps,
// keeps it as its i-th.
func (s *memoService) endpointsRecord(i int, prev *memoRecord, pe *model.PublishedEndpoints, patch *model.EndpointsPatch) *store.EndpointsRecord {
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
