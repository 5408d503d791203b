package merge

import (
	"cmp"
	"maps"
	"slices"
	"sync/atomic"

	"github.com/meshfed/meshfed/federation/model"
)

// serviceEntry is what the memo keeps of one global service: the service as a merge built
// it, but for its exporters (they carry endpoint counts), with the exports it was built from
// (each exporter's export without its endpoints, in cluster order) and the index generation
// it was built with; and each of those exporters' copies (exporters[i] is exports[i]'s).
type serviceEntry struct {
	exports   []model.ClusterExport
	exporters []*memoEntry
	global    model.GlobalService
	names     [][]namePair
	built     uint64 // the merge that built global (Service.Built)
	index     uint64 // Memo.index when it was built
	used      uint64 // the last merge that used the entry
}

// merges numbers the merges through a memo, across memos, from 1 (Service.Built).
var merges atomic.Uint64

// begin starts a merge over idx and numbers it. A kept service stays right only while idx
// holds the same member clusters (names, segments, networks, regions and domains) as the
// index it was merged with, since who imports a service from whom depends on all of them: a
// change of any starts a new index generation.
func (m *Memo) begin(idx *index) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.merge = merges.Add(1)
	if !maps.EqualFunc(m.members, idx.members, func(a member, b *member) bool { return a == *b }) {
		m.index++
		m.members = make(map[string]member, len(idx.members))
		for name, mb := range idx.members {
			m.members[name] = *mb
		}
	}
}

// entry returns the memo's entry of service k, nil when it has none (or there is no memo).
func (m *Memo) entry(k Key) *serviceEntry {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.services[k]
}

// keep makes e the memo's entry of service k, used by this merge.
func (m *Memo) keep(k Key, e *serviceEntry) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e.used = m.merge
	if m.services == nil {
		m.services = map[Key]*serviceEntry{}
	}
	m.services[k] = e
}

// next returns the entry this merge keeps for the service prev is the memo's entry of (nil
// when none): prev's service when sorted are the SameService as the exports it was built from
// with the same member clusters (kept), a new one otherwise, to be given global and names.
// Its exporters are for the caller to fill.
func (m *Memo) next(prev *serviceEntry, sorted []source) (next *serviceEntry, kept bool) {
	if m == nil {
		return nil, false
	}
	m.mu.Lock()
	merge, index := m.merge, m.index
	m.mu.Unlock()
	if prev != nil && prev.index == index && prev.sameExports(sorted) {
		return &serviceEntry{exports: prev.exports, exporters: make([]*memoEntry, len(sorted)), global: prev.global,
			names: prev.names, built: prev.built, index: index}, true
	}
	next = &serviceEntry{exports: make([]model.ClusterExport, len(sorted)), exporters: make([]*memoEntry, len(sorted)),
		built: merge, index: index}
	for i, s := range sorted {
		next.exports[i] = serviceFields(s.export)
	}
	return next, false
}

// sameExports reports whether sorted are the SameService as the exports e was built from.
func (e *serviceEntry) sameExports(sorted []source) bool {
	if len(e.exports) != len(sorted) {
		return false
	}
	for i, s := range sorted {
		if !e.exports[i].SameService(s.export) {
			return false
		}
	}
	return true
}

// exporter returns e's copy of cluster's export, expected at position i; nil when e is nil or
// has none.
func (e *serviceEntry) exporter(i int, cluster string) *memoEntry {
	if e == nil {
		return nil
	}
	if i < len(e.exports) && e.exports[i].Cluster == cluster {
		return e.exporters[i]
	}
	if j := e.indexOf(cluster); j >= 0 {
		return e.exporters[j]
	}
	return nil
}

// indexOf is the position of cluster's export in e.exports; -1 when there is none.
func (e *serviceEntry) indexOf(cluster string) int {
	j, ok := slices.BinarySearchFunc(e.exports, cluster, func(x model.ClusterExport, c string) int { return cmp.Compare(x.Cluster, c) })
	if !ok {
		return -1
	}
	return j
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
