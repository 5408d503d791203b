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
// Service, with what they were derived from: the site, every EndpointSlice's UID and
// resourceVersion, and a digest of the Nodes' localities. A pass whose inputs for a Service are
// the same gets the same endpoints back without converting and sorting them again, so a large
// Service that did not change costs its member almost nothing per pass. The returned endpoints
// are shared between passes: callers must not modify them (the merge copies what it keeps).
// Slices without a resourceVersion (built by hand, not read from an API server) are never
// cached. Safe for concurrent use.
type EndpointsCache struct {
	mu sync.Mutex
	m  map[types.NamespacedName]*derivedEndpoints
}

// derivedEndpoints is one Service's endpoints and what they were derived from.
type derivedEndpoints struct {
	site   Site
	nodes  uint64
	slices map[types.UID]string
	eps    []model.Endpoint
}

// endpoints returns EndpointsFromSlices(site, eps, nodes) for Service key, from the cache when
// its slices and the Nodes (nodesDigest) are what the cached endpoints were derived from.
func (c *EndpointsCache) endpoints(key types.NamespacedName, site Site, eps []discoveryv1.EndpointSlice, nodes map[string]*corev1.Node, nodesDigest uint64) []model.Endpoint {
	if c == nil {
		return EndpointsFromSlices(site, eps, nodes)
	}
	versions, cacheable := sliceVersions(eps)
	if !cacheable {
		return EndpointsFromSlices(site, eps, nodes)
	}
	c.mu.Lock()
	d := c.m[key]
	c.mu.Unlock()
	if d != nil && d.site == site && d.nodes == nodesDigest && maps.Equal(d.slices, versions) {
		return d.eps
	}
	out := EndpointsFromSlices(site, eps, nodes)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[types.NamespacedName]*derivedEndpoints{}
	}
	c.m[key] = &derivedEndpoints{site: site, nodes: nodesDigest, slices: versions, eps: out}
	return out
}

// retain drops the Services not in keep.
func (c *EndpointsCache) retain(keep map[types.NamespacedName]bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	maps.DeleteFunc(c.m, func(k types.NamespacedName, _ *derivedEndpoints) bool { return !keep[k] })
}

// len is the number of Services cached.
func (c *EndpointsCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// sliceVersions returns the resourceVersion of each slice by UID; false when a slice lacks
// either, or two share a UID, so that the slices cannot be told apart from others.
func sliceVersions(eps []discoveryv1.EndpointSlice) (map[types.UID]string, bool) {
	out := make(map[types.UID]string, len(eps))
	for i := range eps {
		m := &eps[i].ObjectMeta
		if m.UID == "" || m.ResourceVersion == "" {
			return nil, false
		}
		if _, dup := out[m.UID]; dup {
			return nil, false
		}
		out[m.UID] = m.ResourceVersion
	}
	return out, true
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
