package member

import (
	"maps"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"

	"github.com/meshfed/meshfed/federation/model"
)

// ExportsCache keeps, for one member, each Service's export as a pass made it, with the
// resourceVersions of what it was made from (the Service, its Namespace, its ServiceExport)
// and the site; and the exports the last pass returned. A pass then takes the export of a
// Service whose objects did not change from the cache instead of reading its annotations
// again, with the endpoints the EndpointsCache derives (the same slice while its slices did
// not change). When every Service's export is the cache's and the same Services are exported,
// it returns the last pass's exports (the list itself when none changed, else a copy with the
// exports whose endpoints changed put in their places) instead of making and sorting them
// again. At 1,000 Services a member's exports took ~2.3 ms a pass, and the hub derives every
// member's in every pass. A list once returned is never modified: the hub keeps it (a second
// list of 1,000 exports per member, ~30 MB at 100 members, otherwise). Objects without a
// resourceVersion are never cached. One Exports at a time uses a cache.
type ExportsCache struct {
	mu     sync.Mutex
	m      map[types.NamespacedName]*cachedExport
	last   []model.ClusterExport
	passes uint64 // numbers the passes (exportsPass.n)
	// patched are the positions in last of exports handed out with an endpoints patch: a
	// patch goes out once, with the pass that made it.
	patched []int
}

// cachedExport is whether one Service is exported (ok) and its problems, what its export was
// made from, its export's position in the cache's last exports (when ok; the export is there,
// not kept twice), and the last pass that saw it.
type cachedExport struct {
	from     exportSource
	ok       bool
	problems []ValueProblem
	pos      int
	used     uint64
}

// cachedAs is how a pass's export of a Service relates to the cache: its entry (nil when the
// export is not cached), and whether the export is the entry's exactly (same) or differs in
// its endpoints only.
type cachedAs struct {
	entry *cachedExport
	same  bool
}

// exportsPass collects one Exports call's exports. While each is cached at a position in the
// cache's last exports (inPlace), it keeps only those positions and the exports whose
// endpoints changed; once one is not, it makes the list of exports (out).
type exportsPass struct {
	c         *ExportsCache // nil without a cache
	n         uint64
	inPlace   bool
	positions []int
	changed   []placedExport
	out       []model.ClusterExport
}

// placedExport is an export whose endpoints changed, and its position in the last exports.
type placedExport struct {
	pos int
	exp model.ClusterExport
}

// exportSource is what an export is made from, but for the endpoints: the resourceVersions of
// the Service, its Namespace and its ServiceExport ("" when there is none), and the site.
type exportSource struct {
	svc, ns, se string
	site        Site
}

// sourceOf is what the export of svc is made from; ok is false when an object lacks a
// resourceVersion, so that nothing tells its versions apart.
func sourceOf(site Site, svc *corev1.Service, ns *corev1.Namespace, se *mcsv1alpha1.ServiceExport) (exportSource, bool) {
	src := exportSource{svc: svc.ResourceVersion, site: site}
	if ns != nil {
		src.ns = ns.ResourceVersion
		if src.ns == "" {
			return src, false
		}
	}
	if se != nil {
		src.se = se.ResourceVersion
		if src.se == "" {
			return src, false
		}
	}
	return src, src.svc != ""
}

// begin starts a pass (one without a cache when c is nil).
func (c *ExportsCache) begin() *exportsPass {
	if c == nil {
		return &exportsPass{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.passes++
	return &exportsPass{c: c, n: c.passes, inPlace: c.last != nil}
}

// saw records one Service's export: ok when exported, how it relates to the cache.
func (p *exportsPass) saw(cached cachedAs, ok bool, exp model.ClusterExport) {
	e := cached.entry
	if e != nil {
		e.used = p.n
	}
	if !ok {
		return
	}
	if p.inPlace && (e == nil || e.pos < 0 || e.pos >= len(p.c.last)) {
		p.leavePlace()
	}
	if !p.inPlace {
		p.out = append(p.out, exp)
		return
	}
	p.positions = append(p.positions, e.pos)
	if !cached.same {
		p.changed = append(p.changed, placedExport{pos: e.pos, exp: exp})
	}
}

// leavePlace makes the list of the exports seen so far, from the last exports and the changed
// ones, and collects the next ones in it.
func (p *exportsPass) leavePlace() {
	p.inPlace = false
	p.out = make([]model.ClusterExport, 0, len(p.c.last)+1)
	changed := make(map[int]bool, len(p.changed))
	for _, ch := range p.changed {
		changed[ch.pos] = true
		p.out = append(p.out, ch.exp)
	}
	for _, pos := range p.positions {
		if !changed[pos] {
			exp := p.c.last[pos]
			exp.EndpointsPatch = nil // handed out with the last pass
			p.out = append(p.out, exp)
		}
	}
}

// exports returns the pass's exports, and whether they are sorted: when every export is in
// place and there are as many as the last, the last exports, the changed ones put in their
// places in a copy (the list handed out last is never modified), and without the patches
// handed out with them; otherwise the list made, not sorted.
func (p *exportsPass) exports() ([]model.ClusterExport, bool) {
	if !p.inPlace {
		return p.out, false
	}
	if len(p.positions) != len(p.c.last) {
		p.leavePlace()
		return p.out, false
	}
	if len(p.changed) == 0 && len(p.c.patched) == 0 {
		return p.c.last, true
	}
	out := slices.Clone(p.c.last)
	for _, pos := range p.c.patched {
		out[pos].EndpointsPatch = nil
	}
	for _, ch := range p.changed {
		out[ch.pos] = ch.exp
	}
	return out, true
}

// export returns the cached export of Service key when it was made from src; nil otherwise
// (or without a cache).
func (c *ExportsCache) export(key types.NamespacedName, src exportSource) *cachedExport {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.m[key]; e != nil && e.from == src {
		return e
	}
	return nil
}

// exportAt returns the export of e, Service key's entry, in the last exports (without the
// patch it was handed out with); false when they do not hold it there.
func (c *ExportsCache) exportAt(key types.NamespacedName, e *cachedExport) (model.ClusterExport, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.pos < 0 || e.pos >= len(c.last) || c.last[e.pos].Namespace != key.Namespace || c.last[e.pos].Name != key.Name {
		return model.ClusterExport{}, false
	}
	exp := c.last[e.pos]
	exp.EndpointsPatch = nil
	return exp, true
}

// keep caches e as Service key's export.
func (c *ExportsCache) keep(key types.NamespacedName, e *cachedExport) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[types.NamespacedName]*cachedExport{}
	}
	c.m[key] = e
}

// finish ends pass p, whose exports are out: it drops the Services the pass did not see,
// places each export's entry at its position in out, and keeps out as the last exports. It
// returns out, in a list no longer than it when it was made by appending (kept, and kept by
// the hub, until a Service changes).
func (c *ExportsCache) finish(p *exportsPass, out []model.ClusterExport) []model.ClusterExport {
	if c == nil {
		return out
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	maps.DeleteFunc(c.m, func(_ types.NamespacedName, e *cachedExport) bool { return e.used != p.n })
	c.patched = c.patched[:0]
	if p.inPlace {
		c.last = out // the same exports at the same positions
		for _, ch := range p.changed {
			if ch.exp.EndpointsPatch != nil {
				c.patched = append(c.patched, ch.pos)
			}
		}
		return out
	}
	if cap(out)-len(out) > len(out)/16 {
		out = slices.Clone(out)
	}
	for i := range out {
		if e := c.m[types.NamespacedName{Namespace: out[i].Namespace, Name: out[i].Name}]; e != nil {
			e.pos = i
		}
		if out[i].EndpointsPatch != nil {
			c.patched = append(c.patched, i)
		}
	}
	c.last = out
	return out
}
