package member

import (
	"cmp"
	"encoding/binary"
	"hash/maphash"
	"maps"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
)

// EndpointsCache keeps, for one member, the endpoints EndpointsFromSlices derived for each
// Service and for each of its EndpointSlices, with what they were derived from: the site, each
// slice's UID and resourceVersion, and a digest of the Nodes' localities. A pass whose inputs
// for a Service are the same gets the same endpoints back; when some of its slices changed,
// only those are converted again, and only the addresses whose endpoint changed in them are
// merged again into the earlier endpoints (handed out with a model.EndpointsPatch saying so).
// A change to one slice of a large Service costs its member work in proportion to that slice
// and a copy of the endpoints, instead of converting, sorting or merging all of them. The returned endpoints are shared between passes: callers must not
// modify them (the merge copies what it keeps). Slices without a UID or resourceVersion (built
// by hand, not read from an API server) are never cached. Safe for concurrent use.
type EndpointsCache struct {
	mu sync.Mutex
	m  map[types.NamespacedName]*derivedEndpoints
	// passes numbers the Exports calls (begin); an entry keeps the number of the last that
	// derived its endpoints, so that end drops the others.
	passes uint64
}

// derivedEndpoints is one Service's endpoints, each slice's, and what they were derived from.
type derivedEndpoints struct {
	site  Site
	nodes uint64
	// slices are each slice's, by the slices' names: a list, not a map by UID, as most
	// Services have one slice, and a map of one costs ten times the entry (~50 MB at 100,000
	// Services). A lookup scans it, or, when there are many, byUID (see indexSlices).
	slices []derivedSlice
	byUID  map[types.UID]int
	eps    []model.Endpoint
	// patch says how eps was made from the endpoints derived before, nil when they were
	// merged afresh (see patchMerged).
	patch *model.EndpointsPatch
	used  uint64 // the EndpointsCache.passes that last derived them
}

// derivedSlice is SliceEndpoints of the slice uid at resourceVersion rv.
type derivedSlice struct {
	uid types.UID
	rv  string
	eps []model.Endpoint
}

// sliceIndexMin is how many slices an entry has before it finds them through a map by UID.
const sliceIndexMin = 16

// indexSlices makes d's map of its slices by UID, when it has many.
func (d *derivedEndpoints) indexSlices() {
	if len(d.slices) < sliceIndexMin {
		return
	}
	d.byUID = make(map[types.UID]int, len(d.slices))
	for i := range d.slices {
		d.byUID[d.slices[i].uid] = i
	}
}

// find returns d's slice with uid; d may be nil (none).
func (d *derivedEndpoints) find(uid types.UID) (derivedSlice, bool) {
	switch {
	case d == nil:
		return derivedSlice{}, false
	case d.byUID != nil:
		if i, ok := d.byUID[uid]; ok {
			return d.slices[i], true
		}
		return derivedSlice{}, false
	}
	for i := range d.slices {
		if d.slices[i].uid == uid {
			return d.slices[i], true
		}
	}
	return derivedSlice{}, false
}

// endpoints returns EndpointsFromSlices(site, eps, nodes) for Service key, deriving again
// only the slices whose UID or resourceVersion the cache does not hold for the same site and
// Nodes (nodesDigest). When the same slices are there and only some changed, it patches the
// endpoints it derived before with the changed slices' endpoints and returns how (a patch
// against the endpoints it returned before); otherwise the patch is nil.
func (c *EndpointsCache) endpoints(key types.NamespacedName, site Site, eps []discoveryv1.EndpointSlice, nodes map[string]*corev1.Node, nodesDigest uint64) ([]model.Endpoint, *model.EndpointsPatch) {
	if c == nil {
		return EndpointsFromSlices(site, eps, nodes), nil
	}
	c.mu.Lock()
	prev := c.m[key]
	if prev != nil {
		prev.used = c.passes
	}
	c.mu.Unlock()
	if prev != nil && prev.site == site && prev.nodes == nodesDigest && prev.holds(eps) {
		// The same slices at the same versions (the usual pass): nothing to derive or allocate.
		if prev.patch != nil {
			c.forgetPatch(key, prev)
		}
		return prev.eps, nil
	}
	if !cacheable(eps) {
		return EndpointsFromSlices(site, eps, nodes), nil
	}
	if prev != nil && (prev.site != site || prev.nodes != nodesDigest) {
		prev = nil
	}
	next := &derivedEndpoints{site: site, nodes: nodesDigest, slices: make([]derivedSlice, 0, len(eps))}
	lists := make([][]model.Endpoint, 0, len(eps))
	var changed []changedSlice
	for _, i := range byName(eps) {
		m := &eps[i].ObjectMeta
		d, ok := prev.find(m.UID)
		ok = ok && d.rv == m.ResourceVersion
		if !ok {
			old := d.eps
			d = derivedSlice{uid: m.UID, rv: m.ResourceVersion, eps: SliceEndpoints(site, &eps[i], nodes)}
			changed = append(changed, changedSlice{old: old, new: d.eps})
		}
		next.slices = append(next.slices, d)
		lists = append(lists, d.eps)
	}
	if prev != nil && len(changed) == 0 && prev.sameOrder(next) {
		if prev.patch != nil {
			// The patch was handed out with the endpoints, in the pass that made them: forget
			// it, and with it the earlier endpoints it holds.
			c.forgetPatch(key, prev)
		}
		return prev.eps, nil
	}
	if prev != nil && prev.sameOrder(next) {
		next.eps, next.patch = patchMerged(prev.eps, lists, changed)
	}
	if next.patch == nil {
		next.eps = mergeSorted(lists)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[types.NamespacedName]*derivedEndpoints{}
	}
	next.used = c.passes
	next.indexSlices()
	c.m[key] = next
	return next.eps, next.patch
}

// sameOrder reports whether d and e hold the slices of the same UIDs in the same order.
func (d *derivedEndpoints) sameOrder(e *derivedEndpoints) bool {
	return slices.EqualFunc(d.slices, e.slices, func(a, b derivedSlice) bool { return a.uid == b.uid })
}

// holds reports whether eps are exactly the slices d was derived from, at the same
// resourceVersions: as many, each with a UID and resourceVersion d holds, no UID twice.
func (d *derivedEndpoints) holds(eps []discoveryv1.EndpointSlice) bool {
	if len(eps) != len(d.slices) {
		return false
	}
	for i := range eps {
		m := &eps[i].ObjectMeta
		s, ok := d.find(m.UID)
		if !ok || m.UID == "" || m.ResourceVersion == "" || s.rv != m.ResourceVersion {
			return false
		}
		for j := range i { // as many slices, all held: a UID twice would leave one of d's out
			if eps[j].UID == m.UID {
				return false
			}
		}
	}
	return true
}

// forgetPatch replaces Service key's entry d by a copy without its patch.
func (c *EndpointsCache) forgetPatch(key types.NamespacedName, d *derivedEndpoints) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[key] == d {
		kept := *d
		kept.patch = nil
		c.m[key] = &kept
	}
}

// begin starts an Exports call: end drops the Services whose endpoints it did not derive.
func (c *EndpointsCache) begin() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.passes++
}

// end drops the Services whose endpoints the Exports call begun last did not derive.
func (c *EndpointsCache) end() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	maps.DeleteFunc(c.m, func(_ types.NamespacedName, d *derivedEndpoints) bool { return d.used != c.passes })
}

// len is the number of Services cached.
func (c *EndpointsCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// cacheable reports whether every slice has a UID and a resourceVersion and no two share a
// UID, so that a slice is told apart from every other and from its own other versions.
func cacheable(eps []discoveryv1.EndpointSlice) bool {
	seen := make(map[types.UID]bool, len(eps))
	for i := range eps {
		m := &eps[i].ObjectMeta
		if m.UID == "" || m.ResourceVersion == "" || seen[m.UID] {
			return false
		}
		seen[m.UID] = true
	}
	return true
}

// nodesSeed seeds nodeLocalities; per process, as the digests are never stored.
var nodesSeed = maphash.MakeSeed()

// nodeLocalities digests, for every Node, its name and the labels EndpointsFromSlices reads
// (region, zone, subzone): any change to a Node's locality, and any Node added or removed,
// changes the digest (but by a chance of 2⁻⁶⁴ no one can steer), while a status update does
// not.
func nodeLocalities(nodes map[string]*corev1.Node) uint64 {
	names := slices.Collect(maps.Keys(nodes))
	slices.SortFunc(names, cmp.Compare)
	var buf []byte
	str := func(s string) {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	for _, name := range names {
		str(name)
		var labels map[string]string
		if n := nodes[name]; n != nil {
			labels = n.Labels
		}
		for _, k := range []string{wellknown.RegionLabel, wellknown.ZoneLabel, wellknown.SubzoneLabel} {
			str(labels[k])
		}
	}
	return maphash.Bytes(nodesSeed, buf)
}
