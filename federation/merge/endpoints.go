package merge

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/meshfed/meshfed/federation/model"
)

// copier copies the endpoints of one service's exporters into two backing arrays sized up
// front, so that a service costs two allocations however many endpoints it has. Each
// exporter's endpoints, and each endpoint's ports, are capped subslices: an append to one
// cannot overwrite another.
type copier struct {
	eps   []model.Endpoint
	ports []model.EndpointPort
}

// newCopier sizes the backing arrays for the exporters' endpoints.
func newCopier(sorted []source) *copier {
	eps, ports := 0, 0
	for _, s := range sorted {
		eps += len(s.export.Endpoints)
		ports += countPorts(s.export.Endpoints)
	}
	return &copier{eps: make([]model.Endpoint, 0, eps), ports: make([]model.EndpointPort, 0, ports)}
}

// copyExport copies one exporter's endpoints for the store, sorted by address: port names mapped
// onto the merged ports (ports that map to none are dropped), the locality's cluster set to
// the exporter, network and region filled from it when empty. It also returns the exporter
// with its endpoint and ready (healthy) counts, and reports endpoints that claimed another
// cluster.
func (c *copier) copyExport(s source, names []namePair) (ClusterEndpoints, model.Exporter, *InputProblem) {
	in := s.export.Endpoints
	exp := model.Exporter{Cluster: s.cluster(), Scope: s.export.Scope, Endpoints: len(in)}
	ce := ClusterEndpoints{Cluster: s.cluster()}
	if len(in) == 0 {
		return ce, exp, nil
	}
	start := len(c.eps)
	foreign := 0
	for i := range in {
		if in[i].Healthy() {
			exp.Ready++
		}
		ep := c.clone(&in[i], names)
		if fillLocality(&ep.Locality, &s.member.cluster) {
			foreign++
		}
		c.eps = append(c.eps, ep)
	}
	ce.Endpoints = c.eps[start:len(c.eps):len(c.eps)]
	slices.SortStableFunc(ce.Endpoints, func(a, b model.Endpoint) int { return cmp.Compare(a.Address, b.Address) })
	return ce, exp, foreignProblem(s.export, foreign)
}

// foreignProblem is the problem of an export with foreign endpoints that claimed another
// cluster in their locality, nil when there are none.
func foreignProblem(e *model.ClusterExport, foreign int) *InputProblem {
	if foreign == 0 {
		return nil
	}
	return &InputProblem{
		Reason: ProblemForeignEndpoint, Cluster: e.Cluster, Namespace: e.Namespace, Name: e.Name,
		Message: fmt.Sprintf("%d endpoint(s) of %s/%s exported by cluster %q name another cluster in their locality; rewritten to %q", foreign, e.Namespace, e.Name, e.Cluster, e.Cluster),
	}
}

// foreignTo reports whether a locality names another cluster than c.
func foreignTo(l *model.Locality, c string) bool {
	return l.Cluster != "" && l.Cluster != c
}

// clone deep-copies an endpoint, mapping its port names onto the merged ports.
func (c *copier) clone(ep *model.Endpoint, names []namePair) model.Endpoint {
	out := *ep
	out.Labels = maps.Clone(ep.Labels)
	start := len(c.ports)
	c.ports = mapPorts(c.ports, ep.Ports, names)
	out.Ports = nil
	if len(c.ports) > start {
		out.Ports = c.ports[start:len(c.ports):len(c.ports)]
	}
	return out
}

// countPorts counts the endpoints' ports, to size one backing array for all their copies.
func countPorts(eps []model.Endpoint) int {
	n := 0
	for i := range eps {
		n += len(eps[i].Ports)
	}
	return n
}

// mapPorts appends the ports renamed onto the merged port names to dst, dropping those that
// map to no merged port (the service does not expose them).
func mapPorts(dst, ports []model.EndpointPort, names []namePair) []model.EndpointPort {
	for _, p := range ports {
		for _, n := range names {
			if n.own == p.Name {
				dst = append(dst, model.EndpointPort{Name: n.merged, Port: p.Port})
				break
			}
		}
	}
	return dst
}

// fillLocality sets the locality's cluster to the exporter and fills an empty network or
// region from it. It reports whether the locality named a different cluster.
func fillLocality(l *model.Locality, c *model.Cluster) (foreign bool) {
	foreign = foreignTo(l, c.Name)
	l.Cluster = c.Name
	l.Network = cmp.Or(l.Network, c.Network)
	l.Region = cmp.Or(l.Region, c.Region)
	return foreign
}
