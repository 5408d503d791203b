package merge

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/meshfed/meshfed/federation/model"
)

// source is one usable export with the member cluster that made it, and its position in its
// group (sorted by cluster).
type source struct {
	export *model.ClusterExport
	member *member
	pos    int
}

// cluster is the exporting cluster's name.
func (s source) cluster() string { return s.member.cluster.Name }

// grouping collects usable exports into groups by key, and the problems of the others.
type grouping struct {
	idx      *index
	groups   map[Key][]source
	unusable []InputProblem
}

func newGrouping(idx *index) *grouping { return &grouping{idx: idx, groups: map[Key][]source{}} }

// add puts export e into its service's group, or reports it unusable. The groups are not yet
// sorted nor rid of duplicates (dedupe).
func (g *grouping) add(e *model.ClusterExport) {
	m, p := checkExport(e, g.idx)
	if p != nil {
		g.unusable = append(g.unusable, *p)
		return
	}
	k := Key{Namespace: e.Namespace, Domain: m.domain, Name: e.Name}
	g.groups[k] = append(g.groups[k], source{export: e, member: m})
}

// sortedKeys are the keys of the groups in Key order.
func (g *grouping) sortedKeys() []Key {
	keys := make([]Key, 0, len(g.groups))
	for k := range g.groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, Key.Compare)
	return keys
}

// checkExport returns the export's member cluster, or the problem that makes it unusable.
func checkExport(e *model.ClusterExport, idx *index) (*member, *InputProblem) {
	problem := func(r ProblemReason, format string, args ...any) *InputProblem {
		return &InputProblem{Reason: r, Cluster: e.Cluster, Namespace: e.Namespace, Name: e.Name, Message: fmt.Sprintf(format, args...)}
	}
	if e.Namespace == "" || e.Name == "" {
		return nil, problem(ProblemInvalidExport, "export from cluster %q has no namespace or name; ignored", e.Cluster)
	}
	m, ok := idx.members[e.Cluster]
	if !ok {
		return nil, problem(ProblemUnknownCluster, "export %s/%s from cluster %q, which is not a member; ignored", e.Namespace, e.Name, e.Cluster)
	}
	if e.Scope.Width() < 0 {
		return nil, problem(ProblemInvalidScope, "export %s/%s from cluster %q has invalid scope %q; ignored", e.Namespace, e.Name, e.Cluster, e.Scope)
	}
	return m, nil
}

// dedupe sorts a group by cluster and keeps each cluster's oldest export (ties broken by
// content, so the choice does not depend on input order); the others are reported.
func dedupe(g []source) ([]source, []InputProblem) {
	slices.SortFunc(g, func(a, b source) int {
		if c := cmp.Compare(a.cluster(), b.cluster()); c != 0 {
			return c
		}
		return compareDuplicates(a.export, b.export)
	})
	var problems []InputProblem
	out := g[:0]
	for i, s := range g {
		if i > 0 && s.cluster() == g[i-1].cluster() {
			e := s.export
			problems = append(problems, InputProblem{
				Reason: ProblemDuplicateExport, Cluster: e.Cluster, Namespace: e.Namespace, Name: e.Name,
				Message: fmt.Sprintf("cluster %q exports %s/%s more than once; a copy created %s is ignored", e.Cluster, e.Namespace, e.Name, e.Created.UTC().Format("2006-01-02T15:04:05.999999999Z")),
			})
			continue
		}
		s.pos = len(out)
		out = append(out, s)
	}
	return out, problems
}

// compareDuplicates orders two exports of one cluster: oldest first, then by their printed
// content. The content comparison only runs on equal creation times, which is rare.
func compareDuplicates(a, b *model.ClusterExport) int {
	if c := a.Created.Compare(b.Created); c != 0 {
		return c
	}
	return cmp.Compare(fmt.Sprintf("%+v", *a), fmt.Sprintf("%+v", *b))
}

// byAge returns the group ordered oldest first, ties by cluster name: the MCS precedence.
func byAge(g []source) []source {
	out := slices.Clone(g)
	slices.SortStableFunc(out, func(a, b source) int {
		return cmp.Or(a.export.Created.Compare(b.export.Created), cmp.Compare(a.cluster(), b.cluster()))
	})
	return out
}
