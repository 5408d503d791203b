package merge

import (
	"slices"
	"sync"

	"github.com/meshfed/meshfed/federation/model"
)

// Memo keeps, between merges, each exporter's endpoints as a merge copied them for the store,
// with what they were copied from: the export's endpoints (the same slice, not equal
// contents), the port-name mapping, the exporting cluster and the export's scope. A merge
// given the memo (Input.Memo) takes an exporter's copy from it when all of these are the same,
// so a large service whose export did not change costs a merge nothing; the hub's member
// connections hand over the same endpoints slice while a Service's slices do not change.
// Entries a merge did not use are dropped at its end. The copies are shared between the
// Results of merges with the same memo; nothing may modify them, nor the exports' endpoints
// while the memo holds them. Safe for concurrent use, though merges with one memo are meant
// to run one at a time.
type Memo struct {
	mu   sync.Mutex
	m    map[memoKey]*memoEntry
	used map[memoKey]bool
}

// memoKey is one exporter's export.
type memoKey struct {
	cluster, namespace, name string
}

// memoEntry is one exporter's copy and what it was made from.
type memoEntry struct {
	in      []model.Endpoint
	names   []namePair
	cluster model.Cluster
	scope   model.Scope
	ce      ClusterEndpoints
	exp     model.Exporter
	problem *InputProblem
}

// begin starts a merge: no entry is used yet.
func (m *Memo) begin() {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.used = map[memoKey]bool{}
}

// end finishes a merge, dropping the entries it did not use.
func (m *Memo) end() {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.m {
		if !m.used[k] {
			delete(m.m, k)
		}
	}
	m.used = nil
}

// copyExport is c.copyExport(s, names) through the memo; without one, c copies.
func (m *Memo) copyExport(c *copier, s source, names []namePair) (ClusterEndpoints, model.Exporter, *InputProblem) {
	if m == nil {
		return c.copyExport(s, names)
	}
	k := memoKey{cluster: s.cluster(), namespace: s.export.Namespace, name: s.export.Name}
	in := s.export.Endpoints
	m.mu.Lock()
	e := m.m[k]
	m.used[k] = true
	m.mu.Unlock()
	if e != nil && sameSlice(e.in, in) && slices.Equal(e.names, names) && e.cluster == s.member.cluster && e.scope == s.export.Scope {
		return e.ce, e.exp, e.problem
	}
	ce, exp, p := newCopier([]source{s}).copyExport(s, names)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[memoKey]*memoEntry{}
	}
	m.m[k] = &memoEntry{in: in, names: slices.Clone(names), cluster: s.member.cluster, scope: s.export.Scope, ce: ce, exp: exp, problem: p}
	return ce, exp, p
}

// sameSlice reports whether a and b are the same slice: the same length and, when not empty,
// the same first element. The memo holds a, so its array cannot be reused for another slice.
func sameSlice(a, b []model.Endpoint) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
