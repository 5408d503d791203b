package merge

import (
	"slices"
	"sync"

	"github.com/meshfed/meshfed/federation/model"
)

// Memo keeps, between merges, each exporter's endpoints as a merge copied them for the store
// (or the export's endpoints themselves, when a copy would not change them: the hub's member
// connections fill in the cluster, network and region, and ports usually keep their names),
// with what they were copied from: the export's endpoints (the same slice, not equal
// contents), the port-name mapping, the exporting cluster and the export's scope. A merge
// given the memo (Input.Memo) takes an exporter's copy from it when all of these are the same,
// so a large service whose export did not change costs a merge nothing; the hub's member
// connections hand over the same endpoints slice while a Service's slices do not change.
// An export that comes with a patch of the endpoints the memo copied
// (model.ClusterExport.EndpointsPatch) gets the memo's copy with only the patched endpoints
// copied again, and its ClusterEndpoints carry the same splices as a patch of the earlier
// copy (ClusterEndpoints.Patch), once: the memo keeps the earlier copy until the next merge.
//
// The memo keeps each global service too, but for its exporters, with copies of the exports it
// was merged from: while every export of a service is the SameService as then (it differs at
// most in its endpoints) and the member clusters are the same, a merge takes the service from
// the memo instead of merging it again, with the number of the merge that built it
// (Service.Built).
//
// A merge given Input.Same, the clusters whose exports did not change, goes further: it reads
// only the other clusters' exports, compares each with the memo's, merges again only the
// services whose exports differ or that a changed cluster no longer exports (with the same
// clusters' exports of them as the memo kept them), and hands over every other service as the
// last merge made it (Service.Made), without looking at its exporters. Its cost then grows with
// the changed clusters' exports and the services that changed, not with the federation. When
// no cluster is named the same, or the member clusters changed, it merges everything.
//
// The memo holds one entry per service, with its exporters' copies in cluster order, so that
// a merge looks each service up once, not each exporter. Entries a merge did not use are
// dropped at its end. The copies and the kept services are shared between the Results of
// merges with the same memo; nothing may modify them, nor the exports' endpoints while the
// memo holds them. Safe for concurrent use, though merges with one memo are meant to run one
// at a time.
type Memo struct {
	mu       sync.Mutex
	services map[Key]*serviceEntry
	// members are the member clusters of the last merge, and index counts the changes to them.
	members map[string]member
	index   uint64
	merge   uint64 // the number of the merge running (Service.Built)
	// last is what the last merge made, for a next one given Input.Same (mergeChanged).
	last *lastMerge
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
	foreign int // endpoints of in whose locality named another cluster
}

// end finishes a merge, dropping the services it did not use.
func (m *Memo) end() {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, e := range m.services {
		if e.used != m.merge {
			delete(m.services, k)
		}
	}
}

// copyExport is the copy of export s with port-name mapping names: prev's, when prev (the
// memo's entry of the same exporter, or nil) was made from the same, a patch of prev's when s
// comes with a patch of prev's endpoints, or a new one. It returns the entry that holds it.
func copyExport(prev *memoEntry, s source, names []namePair) *memoEntry {
	in := s.export.Endpoints
	e := prev
	same := e != nil && slices.Equal(e.names, names) && e.cluster == s.member.cluster && e.scope == s.export.Scope
	if same && model.SameEndpoints(e.in, in) {
		if e.ce.Patch != nil {
			// The patch went out with the copy, in the merge that made it: forget it, and with
			// it the earlier copy it holds.
			kept := *e
			kept.ce.Patch = nil
			return &kept
		}
		return e
	}
	if p := s.export.EndpointsPatch; same && p != nil && model.SameEndpoints(e.in, p.Base) && p.Fits(len(in)) {
		return e.patched(s, names)
	}
	next := &memoEntry{in: in, names: slices.Clone(names), cluster: s.member.cluster, scope: s.export.Scope}
	if shareable(in, names, &s.member.cluster) {
		next.ce, next.exp = shared(s), model.Exporter{Cluster: s.cluster(), Scope: s.export.Scope, Endpoints: len(in)}
		for i := range in {
			next.exp.Ready += healthy(&in[i])
		}
	} else {
		next.ce, next.exp, next.problem = newCopier([]source{s}).copyExport(s, names)
	}
	if next.problem != nil {
		next.foreign = countForeign(in, s.cluster())
	}
	return next
}

// patched is the entry of export s, whose endpoints are a patch of e.in
// (s.export.EndpointsPatch): e's copy with only the endpoints inside the patch's splices
// copied again, and its counts adjusted by what the splices removed and added. Its copy
// carries the same splices as a patch of e's copy.
func (e *memoEntry) patched(s source, names []namePair) *memoEntry {
	in, p := s.export.Endpoints, s.export.EndpointsPatch
	cluster := s.cluster()
	next := &memoEntry{in: in, names: e.names, cluster: e.cluster, scope: e.scope, exp: e.exp, foreign: e.foreign}
	c := &copier{ports: make([]model.EndpointPort, 0, p.Changed()*len(names))}
	for _, sp := range p.Splices {
		for i := sp.From; i < sp.To; i++ {
			next.exp.Ready -= healthy(&p.Base[i])
			next.foreign -= foreign(&p.Base[i], cluster)
		}
		for i := sp.NewFrom; i < sp.NewTo; i++ {
			next.exp.Ready += healthy(&in[i])
			next.foreign += foreign(&in[i], cluster)
		}
	}
	next.exp.Endpoints = len(in)
	if model.SameEndpoints(e.ce.Endpoints, e.in) && splicedAsIs(p, in, names, &s.member.cluster) {
		next.ce = shared(s) // the copy was the export's endpoints, and still is
	} else {
		next.ce = ClusterEndpoints{Cluster: cluster, Endpoints: model.ApplyPatch(p, e.ce.Endpoints, len(in), func(i int) model.Endpoint {
			ep := c.clone(&in[i], names)
			fillLocality(&ep.Locality, &s.member.cluster)
			return ep
		})}
	}
	next.ce.Patch = &model.EndpointsPatch{Base: e.ce.Endpoints, Splices: p.Splices}
	if len(in) == 0 {
		next.ce.Endpoints, next.ce.Patch = nil, nil
	}
	next.problem = foreignProblem(s.export, next.foreign)
	return next
}

// countForeign counts the endpoints whose locality names another cluster than c.
func countForeign(eps []model.Endpoint, c string) int {
	n := 0
	for i := range eps {
		n += foreign(&eps[i], c)
	}
	return n
}

// healthy and foreign count an endpoint that is healthy, or names another cluster than c.
func healthy(e *model.Endpoint) int { return b2i(e.Healthy()) }

func foreign(e *model.Endpoint, c string) int { return b2i(foreignTo(&e.Locality, c)) }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// shared is the ClusterEndpoints of export s that are its endpoints themselves (capped, so
// that an append cannot write into the export's array), for endpoints a copy would not change.
func shared(s source) ClusterEndpoints {
	ce := ClusterEndpoints{Cluster: s.cluster()}
	if in := s.export.Endpoints; len(in) > 0 {
		ce.Endpoints = in[:len(in):len(in)]
	}
	return ce
}

// shareable reports whether copying the endpoints (copier.copyExport) would give them
// unchanged: sorted by address, and each asIs.
func shareable(in []model.Endpoint, names []namePair, c *model.Cluster) bool {
	for i := range in {
		if !asIs(&in[i], names, c) || (i > 0 && in[i].Address < in[i-1].Address) {
			return false
		}
	}
	return true
}

// splicedAsIs reports whether every endpoint the patch's splices put in is asIs.
func splicedAsIs(p *model.EndpointsPatch, in []model.Endpoint, names []namePair, c *model.Cluster) bool {
	for _, sp := range p.Splices {
		for i := sp.NewFrom; i < sp.NewTo; i++ {
			if !asIs(&in[i], names, c) {
				return false
			}
		}
	}
	return true
}

// asIs reports whether copier.clone and fillLocality would give ep back unchanged for cluster
// c: its locality names c and has a network and region (or c none to fill in), each port maps
// onto its own name, and its ports are nil or not empty (a copy drops an empty list).
func asIs(ep *model.Endpoint, names []namePair, c *model.Cluster) bool {
	l := &ep.Locality
	if l.Cluster != c.Name || (l.Network == "" && c.Network != "") || (l.Region == "" && c.Region != "") {
		return false
	}
	if ep.Ports != nil && len(ep.Ports) == 0 {
		return false
	}
	for _, p := range ep.Ports {
		i := slices.IndexFunc(names, func(n namePair) bool { return n.own == p.Name })
		if i < 0 || names[i].merged != p.Name {
			return false
		}
	}
	return true
}
