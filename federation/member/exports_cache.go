package member

import (
	"maps"
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
// not change); and when every Service's export is the cache's, it returns the last pass's
// exports as they are. At 1,000 Services a member's exports took ~3 ms a pass, and the hub
// derives every member's in every pass. Objects without a resourceVersion are never cached.
type ExportsCache struct {
	mu   sync.Mutex
	m    map[types.NamespacedName]*cachedExport
	last []model.ClusterExport
}

// cachedExport is one Service's export (ok false: not exported) and its problems, and what it
// was made from.
type cachedExport struct {
	from     exportSource
	exp      model.ClusterExport
	ok       bool
	problems []ValueProblem
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

// lastExports returns the exports the last pass returned when there are n of them; nil
// otherwise.
func (c *ExportsCache) lastExports(n int) []model.ClusterExport {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last == nil || len(c.last) != n {
		return nil
	}
	return c.last
}

// finish drops the Services not in keep and keeps out as the pass's exports.
func (c *ExportsCache) finish(keep map[types.NamespacedName]bool, out []model.ClusterExport) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	maps.DeleteFunc(c.m, func(k types.NamespacedName, _ *cachedExport) bool { return !keep[k] })
	c.last = out
}
