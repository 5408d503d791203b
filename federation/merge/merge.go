package merge

import (
	"slices"

	"github.com/meshfed/meshfed/federation/model"
)

// Merge merges every cluster's exports into global services. It is pure and deterministic:
// it does no I/O, never modifies in, and returns the same Result (byte-identical as JSON)
// for the same clusters, segments and exports in any order. The Result shares no memory
// with in; with in.Memo, it shares the copies of unchanged exporters' endpoints with earlier
// Results, and an export's endpoints themselves where a copy would not change them (see Memo).
func Merge(in Input) Result {
	idx, problems := newIndex(in.Clusters, in.Segments)
	in.Memo.begin(idx)
	defer in.Memo.end()
	if res, ok := in.Memo.mergeChanged(in, idx, problems); ok {
		return res
	}
	g := newGrouping(idx)
	for i := range in.Exports {
		g.add(&in.Exports[i])
	}
	keys := g.sortedKeys()
	last := in.Memo.newLast(len(keys))
	last.countExports(in.Exports)
	services := make([]Service, len(keys))
	for i, k := range keys {
		sorted, p := dedupe(g.groups[k])
		var mp []InputProblem
		services[i], mp = mergeService(k, sorted, idx, in.Memo)
		p = append(p, mp...)
		last.add(k, sorted, p)
		problems = append(problems, p...)
	}
	problems = append(problems, g.unusable...)
	in.Memo.keepLast(last, services, g.unusable)
	return Result{Services: services, Problems: sortProblems(problems)}
}

// mergeService merges one group of exports, sorted by cluster with one export per cluster:
// the service as the memo kept it when that is still right (see Memo), and the exporters'
// endpoints.
func mergeService(k Key, sorted []source, idx *index, memo *Memo) (Service, []InputProblem) {
	if memo == nil {
		return mergeAfresh(k, sorted, idx)
	}
	out := Service{Endpoints: make([]ClusterEndpoints, len(sorted))}
	prev := memo.entry(k)
	next, kept := memo.next(prev, sorted)
	if !kept {
		next.global, next.names = mergeGlobal(k, sorted, idx)
	}
	svc := next.global
	svc.Exporters = make([]model.Exporter, len(sorted))
	var problems []InputProblem
	for i, s := range sorted {
		e := copyExport(prev.exporter(i, s.cluster()), s, next.names[s.pos])
		next.exporters[i] = e
		out.Endpoints[i], svc.Exporters[i] = e.ce, e.exp
		if e.problem != nil {
			problems = append(problems, *e.problem)
		}
	}
	memo.keep(k, next)
	out.Global, out.Built, out.Made = svc, next.built, memo.number()
	return out, problems
}

// mergeAfresh is mergeService without a memo.
func mergeAfresh(k Key, sorted []source, idx *index) (Service, []InputProblem) {
	out := Service{Endpoints: make([]ClusterEndpoints, len(sorted))}
	svc, names := mergeGlobal(k, sorted, idx)
	svc.Exporters = make([]model.Exporter, len(sorted))
	c := newCopier(sorted) // one backing array for all exporters; the memo copies each apart
	var problems []InputProblem
	for i, s := range sorted {
		var p *InputProblem
		out.Endpoints[i], svc.Exporters[i], p = c.copyExport(s, names[s.pos])
		if p != nil {
			problems = append(problems, *p)
		}
	}
	out.Global = svc
	return out, problems
}

// mergeGlobal merges one group of exports, sorted by cluster with one export per cluster, into
// the global service but for its exporters, and returns each exporter's port-name mapping
// (indexed by source.pos).
func mergeGlobal(k Key, sorted []source, idx *index) (model.GlobalService, [][]namePair) {
	aged := byAge(sorted)
	svc := model.GlobalService{
		Namespace: k.Namespace,
		Name:      k.Name,
		Domain:    k.Domain,
		Hostname:  k.Hostname(),
		Scope:     widestScope(sorted),
		Takeover:  anyTakeover(sorted),
		Imports:   buildImports(sorted, idx),
	}
	var names [][]namePair
	svc.Ports, names, svc.Conflicts = mergePorts(aged)
	var typeConflict, distConflict, loadConflict *model.Conflict
	svc.Type, typeConflict = mergeType(aged)
	svc.Distribution, distConflict = mergeDistribution(sorted)
	svc.Outlier = oldestOutlier(aged)
	svc.Load, loadConflict = mergeLoad(aged)
	svc.Conflicts = appendConflicts(svc.Conflicts, typeConflict, distConflict, loadConflict)
	var propConflicts []*model.Conflict
	svc.Properties, propConflicts = mergeProperties(aged)
	svc.Conflicts = appendConflicts(svc.Conflicts, propConflicts...)
	slices.SortFunc(svc.Conflicts, compareConflicts)
	return svc, names
}

// appendConflicts appends the conflicts that are not nil.
func appendConflicts(conflicts []model.Conflict, cs ...*model.Conflict) []model.Conflict {
	for _, c := range cs {
		if c != nil {
			conflicts = append(conflicts, *c)
		}
	}
	return conflicts
}

// widestScope is the widest scope of any export, shown on the service; each export keeps its
// own scope for visibility.
func widestScope(sorted []source) model.Scope {
	widest := sorted[0].export.Scope
	for _, s := range sorted[1:] {
		if s.export.Scope.Width() > widest.Width() {
			widest = s.export.Scope
		}
	}
	return widest
}

// anyTakeover reports whether any export asks for takeover (each export's Takeover is already
// resolved by the hub from its annotations and global-only).
func anyTakeover(sorted []source) bool {
	return slices.ContainsFunc(sorted, func(s source) bool { return s.export.Takeover })
}
