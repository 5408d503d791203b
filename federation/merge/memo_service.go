package merge

import (
	"maps"
	"slices"
	"sync/atomic"

	"github.com/meshfed/meshfed/federation/model"
)

// serviceEntry is a global service as a merge built it, but for its exporters (they carry
// endpoint counts), with the exports it was built from: each exporter's export without its
// endpoints, in cluster order.
type serviceEntry struct {
	exports []model.ClusterExport
	global  model.GlobalService
	names   [][]namePair
	built   uint64 // the merge that built it (Service.Built)
}

// merges numbers the merges through a memo, across memos, from 1 (Service.Built).
var merges atomic.Uint64

// keepIndex starts a merge over idx and numbers it: the services kept by earlier merges stay
// only when idx holds the same member clusters (names, segments, networks, regions and
// domains) as the index they were merged with, since who imports a service from whom depends
// on all of them.
func (m *Memo) keepIndex(idx *index) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.merge = merges.Add(1)
	same := maps.EqualFunc(m.members, idx.members, func(a member, b *member) bool { return a == *b })
	if !same {
		m.services = nil
		m.members = make(map[string]member, len(idx.members))
		for name, mb := range idx.members {
			m.members[name] = *mb
		}
	}
}

// service returns the service of key k as an earlier merge with the memo built it, but for
// its exporters, its exporters' port-name mappings and the number of that merge, when sorted
// are the SameService as the exports it was built from; ok is false otherwise.
func (m *Memo) service(k Key, sorted []source) (global model.GlobalService, names [][]namePair, built uint64, ok bool) {
	if m == nil {
		return global, nil, 0, false
	}
	m.mu.Lock()
	e := m.services[k]
	m.servicesUsed[k] = true
	m.mu.Unlock()
	if e == nil || len(e.exports) != len(sorted) {
		return global, nil, 0, false
	}
	for i, s := range sorted {
		if !e.exports[i].SameService(s.export) {
			return global, nil, 0, false
		}
	}
	return e.global, e.names, e.built, true
}

// keepService keeps the service of key k that this merge built from sorted (its Exporters are
// not kept) for the next merge, and returns the merge's number; 0 without a memo.
func (m *Memo) keepService(k Key, sorted []source, global model.GlobalService, names [][]namePair) uint64 {
	if m == nil {
		return 0
	}
	e := &serviceEntry{exports: make([]model.ClusterExport, len(sorted)), global: global, names: names}
	e.global.Exporters = nil
	for i, s := range sorted {
		e.exports[i] = serviceFields(s.export)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e.built = m.merge
	if m.services == nil {
		m.services = map[Key]*serviceEntry{}
	}
	m.services[k] = e
	return e.built
}

// serviceFields is a copy of e without its endpoints that shares no memory with it.
func serviceFields(e *model.ClusterExport) model.ClusterExport {
	c := *e
	c.Endpoints, c.EndpointsPatch = nil, nil
	c.Ports = slices.Clone(e.Ports)
	c.Distribution.FailoverPriority = slices.Clone(e.Distribution.FailoverPriority)
	c.Outlier, c.Load = e.Outlier.Clone(), e.Load.Clone()
	c.Properties = e.Properties.Clone()
	return c
}
