package merge

import (
	"maps"
	"slices"
	"strings"

	"github.com/meshfed/meshfed/federation/model"
)

// lastMerge is what a memo keeps of its last merge for the next one given Input.Same: the
// services it made, which services each cluster exported, and the problems it found, by
// cluster (unusable exports) and by service (duplicates and the service's merge).
type lastMerge struct {
	index    uint64 // Memo.index of the merge
	services []Service
	keys     map[string][]Key
	unusable map[string][]InputProblem
	dups     map[string]bool // clusters that exported a service more than once
	problems map[Key][]InputProblem
	// counts are how many exports each cluster had in the input, usable or not.
	counts map[string]int
	// partial: the merge merged only what the clusters not in Input.Same changed.
	partial bool
}

// number is the number of the merge running; 0 without a memo.
func (m *Memo) number() uint64 {
	if m == nil {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.merge
}

// newLast starts the record of a merge of every export into n services; nil without a memo.
func (m *Memo) newLast(n int) *lastMerge {
	if m == nil {
		return nil
	}
	return &lastMerge{
		keys: map[string][]Key{}, unusable: map[string][]InputProblem{}, dups: map[string]bool{},
		problems: make(map[Key][]InputProblem, n),
	}
}

// countExports counts each cluster's exports.
func (l *lastMerge) countExports(exports []model.ClusterExport) {
	if l == nil {
		return
	}
	l.counts = map[string]int{}
	for i := 0; i < len(exports); {
		c, n := exports[i].Cluster, runOf(exports, i)
		l.counts[c] += n
		i += n
	}
}

// runOf is the length of the run of exports of one cluster that starts at i.
func runOf(exports []model.ClusterExport, i int) int {
	n := 1
	for i+n < len(exports) && exports[i+n].Cluster == exports[i].Cluster {
		n++
	}
	return n
}

// skipSame adds the exports of the changed clusters to g and counts them, reading no other
// export but the last of each same cluster's run: a same cluster has as many exports as in
// the last merge (counts), and the hub gathers each cluster's exports in one run. ok is false
// when a same cluster's exports are not one run of that count (g then holds some exports).
// A run it skips cannot hide another cluster's export: the runs it skips hold as many slots
// as the same clusters have exports, so a slot of another cluster in one of them leaves a same
// cluster's export outside every skipped run, where it starts a second run of its cluster.
func skipSame(exports []model.ClusterExport, counts map[string]int, changed func(string) bool, g *grouping) (map[string]int, bool) {
	out := map[string]int{}
	skipped := map[string]bool{}
	for i := 0; i < len(exports); {
		c := exports[i].Cluster
		if changed(c) {
			n := runOf(exports, i)
			for j := i; j < i+n; j++ {
				g.add(&exports[j])
			}
			out[c] += n
			i += n
			continue
		}
		n, known := counts[c]
		if !known || skipped[c] || i+n > len(exports) || exports[i+n-1].Cluster != c {
			return nil, false
		}
		skipped[c] = true
		i += n
	}
	return out, true
}

// scanChanged is skipSame reading every export, in any order.
func scanChanged(exports []model.ClusterExport, changed func(string) bool, g *grouping) map[string]int {
	out := map[string]int{}
	for i := 0; i < len(exports); {
		c, n := exports[i].Cluster, runOf(exports, i)
		if changed(c) {
			for j := i; j < i+n; j++ {
				g.add(&exports[j])
			}
			out[c] += n
		}
		i += n
	}
	return out
}

// add records service k, merged from sorted with problems.
func (l *lastMerge) add(k Key, sorted []source, problems []InputProblem) {
	if l == nil {
		return
	}
	for _, s := range sorted {
		c := s.cluster()
		l.keys[c] = append(l.keys[c], k)
	}
	if len(problems) == 0 {
		delete(l.problems, k)
		return
	}
	l.problems[k] = problems
	for _, p := range problems {
		if p.Reason == ProblemDuplicateExport {
			l.dups[p.Cluster] = true
		}
	}
}

// keepLast keeps l, the record of this merge, whose services and unusable exports are given.
func (m *Memo) keepLast(l *lastMerge, services []Service, unusable []InputProblem) {
	if m == nil {
		return
	}
	for _, p := range unusable {
		l.unusable[p.Cluster] = append(l.unusable[p.Cluster], p)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	l.index, l.services = m.index, services
	m.last = l
}

// mergeChanged is Merge of in over idx (whose problems are given) when in.Same lets it merge
// only what the other clusters changed (see Memo); ok is false when it cannot, and the merge of
// everything that follows then records the merge afresh (newLast). A changed cluster's export
// that is the one the memo holds changes nothing. A cluster that exported a service more than
// once in the last merge counts as changed: the memo keeps only the export that won.
func (m *Memo) mergeChanged(in Input, idx *index, problems []InputProblem) (_ Result, ok bool) {
	if m == nil || len(in.Same) == 0 {
		return Result{}, false
	}
	m.mu.Lock()
	last, index := m.last, m.index
	m.mu.Unlock()
	if last == nil || last.index != index {
		return Result{}, false
	}
	wasDup := maps.Clone(last.dups) // last is updated below
	changed := func(c string) bool { return !in.Same[c] || wasDup[c] }
	var changedMembers []string
	for _, name := range idx.names {
		if changed(name) {
			changedMembers = append(changedMembers, name)
		}
	}
	if len(changedMembers) == len(idx.names) {
		return Result{}, false
	}
	// The changed clusters' exports.
	g := newGrouping(idx)
	counts, ok := skipSame(in.Exports, last.counts, changed, g)
	if !ok {
		g = newGrouping(idx)
		counts = scanChanged(in.Exports, changed, g)
	}
	// The services to merge again: those whose exports from the changed clusters differ from
	// the memo's, and those a changed cluster exported and no longer does.
	dirty := map[Key]bool{}
	nextKeys := map[string][]Key{}
	for k, group := range g.groups {
		if !m.unchangedExports(k, group, wasDup) {
			dirty[k] = true
			continue
		}
		for _, s := range group {
			nextKeys[s.cluster()] = append(nextKeys[s.cluster()], k)
		}
	}
	for _, c := range changedMembers {
		for _, k := range last.keys[c] {
			if !slices.ContainsFunc(g.groups[k], func(s source) bool { return s.cluster() == c }) {
				dirty[k] = true
			}
		}
	}
	keys := slices.SortedFunc(maps.Keys(dirty), Key.Compare)
	merged := make([]Service, 0, len(keys))
	var dups []string
	for _, k := range keys {
		group, ok := m.sameExporters(k, g.groups[k], idx, changed)
		if !ok {
			return Result{}, false
		}
		delete(last.problems, k)
		if len(group) == 0 {
			continue // no cluster exports it any more
		}
		sorted, p := dedupe(group)
		svc, mp := mergeService(k, sorted, idx, m)
		p = append(p, mp...)
		merged = append(merged, svc)
		for _, s := range sorted {
			if c := s.cluster(); changed(c) {
				nextKeys[c] = append(nextKeys[c], k)
			}
		}
		if len(p) > 0 {
			last.problems[k] = p
		}
		for _, dp := range p {
			if dp.Reason == ProblemDuplicateExport {
				dups = append(dups, dp.Cluster)
			}
		}
	}
	services := m.keepOthers(last.services, merged, dirty)
	// The record of this merge: the changed clusters' parts are new.
	for _, c := range changedMembers {
		delete(last.keys, c)
		delete(last.dups, c)
	}
	maps.DeleteFunc(last.unusable, func(c string, _ []InputProblem) bool { return changed(c) })
	maps.DeleteFunc(last.counts, func(c string, _ int) bool { return changed(c) })
	maps.Copy(last.counts, counts)
	for c, ks := range nextKeys {
		last.keys[c] = ks
	}
	for _, c := range dups {
		last.dups[c] = true
	}
	for _, p := range g.unusable {
		last.unusable[p.Cluster] = append(last.unusable[p.Cluster], p)
	}
	m.mu.Lock()
	last.services, last.partial = services, true
	m.mu.Unlock()
	for _, ps := range last.unusable {
		problems = append(problems, ps...)
	}
	for _, ps := range last.problems {
		problems = append(problems, ps...)
	}
	return Result{Services: services, Problems: sortProblems(problems)}, true
}

// unchangedExports reports whether group, the changed clusters' exports of service k, are
// each the export the memo holds of its cluster: the SameService, with the same endpoints slice
// and no patch, and one per cluster that exported no service twice (dup) in the last merge (its
// duplicates were reported with the service). It sorts group by cluster.
func (m *Memo) unchangedExports(k Key, group []source, dup map[string]bool) bool {
	prev := m.entry(k)
	if prev == nil {
		return false
	}
	slices.SortFunc(group, func(a, b source) int { return strings.Compare(a.cluster(), b.cluster()) })
	for i, s := range group {
		if s.export.EndpointsPatch != nil || dup[s.cluster()] || (i > 0 && group[i-1].cluster() == s.cluster()) {
			return false
		}
		j := prev.indexOf(s.cluster())
		if j < 0 || !prev.exports[j].SameService(s.export) || !model.SameEndpoints(prev.exporters[j].in, s.export.Endpoints) {
			return false
		}
	}
	return true
}

// sameExporters is the group of service k: fresh, the changed clusters' exports of it, and the
// other clusters' exports as the memo kept them (the same values, their endpoints the same
// slice). ok is false when the memo names an exporter that is not a member.
func (m *Memo) sameExporters(k Key, fresh []source, idx *index, changed func(string) bool) (_ []source, ok bool) {
	prev := m.entry(k)
	if prev == nil {
		return fresh, true
	}
	group := slices.Clip(fresh)
	for i := range prev.exports {
		c := prev.exports[i].Cluster
		if changed(c) {
			continue
		}
		mb := idx.members[c]
		if mb == nil {
			return nil, false
		}
		e := prev.exports[i]
		e.Endpoints = prev.exporters[i].in
		group = append(group, source{export: &e, member: mb})
	}
	return group, true
}

// keepOthers is the services of this merge in Key order: merged, the services merged again,
// and the last merge's others, as it made them but that their endpoints patches went out with
// it; the memo keeps those others' entries.
func (m *Memo) keepOthers(lastServices, merged []Service, dirty map[Key]bool) []Service {
	out := make([]Service, 0, len(lastServices)+len(merged))
	m.mu.Lock()
	defer m.mu.Unlock()
	j := 0
	for i := range lastServices {
		s := &lastServices[i]
		k := s.Key()
		for j < len(merged) && merged[j].Key().Compare(k) < 0 {
			out = append(out, merged[j])
			j++
		}
		if dirty[k] {
			continue
		}
		if e := m.services[k]; e != nil {
			e.used = m.merge
		}
		out = append(out, withoutPatches(*s))
	}
	return append(out, merged[j:]...)
}

// withoutPatches is s with its endpoints' patches, if any, dropped.
func withoutPatches(s Service) Service {
	if !slices.ContainsFunc(s.Endpoints, func(ce ClusterEndpoints) bool { return ce.Patch != nil }) {
		return s
	}
	eps := slices.Clone(s.Endpoints)
	for i := range eps {
		eps[i].Patch = nil
	}
	s.Endpoints = eps
	return s
}
