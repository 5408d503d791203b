package table

import (
	"net/netip"
	"slices"
)

// localTargets is what the inbound server may connect to: every ip:port of a ready endpoint, or
// a degraded one (serving while terminating, which callers pick only when too few are ready), of
// this waypoint's cluster serving a port of a global service of the namespace, with the
// clusters whose import of that service lists this cluster (sorted, deduplicated).
type localTargets map[netip.AddrPort][]string

// allows reports whether a tunnel from a waypoint of cluster may reach target.
func (l localTargets) allows(target netip.AddrPort, cluster string) bool {
	_, ok := slices.BinarySearch(l[target], cluster)
	return ok
}

// indexTargets builds the targets of this waypoint's cluster that new tunnels may reach
// (ready or degraded endpoints) and those open tunnels may stay on (every endpoint in the
// store, ready or not: an endpoint that stops being ready drains; one withdrawn, with its
// service or the caller's import, is closed), from the store state and the importers of each
// service as the builder last computed them. A target of one service shares that service's
// list of importers; only a target of several gets a list of its own.
func (b *builder) indexTargets(st *state) (ready, granted localTargets) {
	ready, granted = make(localTargets), make(localTargets)
	add := func(l localTargets, ap netip.AddrPort, importers []string) {
		prev, ok := l[ap]
		if !ok || slices.Equal(prev, importers) {
			l[ap] = importers
			return
		}
		merged := make([]string, 0, len(prev)+len(importers))
		merged = append(append(merged, prev...), importers...)
		slices.Sort(merged)
		l[ap] = slices.Compact(merged)
	}
	for key, sr := range b.byService {
		if len(sr.importers) == 0 {
			continue
		}
		rec := st.endpoints[key][b.opts.Cluster]
		svc := st.services[key]
		if rec == nil || svc == nil {
			continue
		}
		for i := range rec.Endpoints {
			ep := &rec.Endpoints[i]
			addr, err := netip.ParseAddr(ep.Address)
			if err != nil {
				continue
			}
			for _, p := range svc.Ports {
				port, ok := ep.TargetPort(p.Name)
				if !ok || port <= 0 || port > 65535 {
					continue
				}
				ap := netip.AddrPortFrom(addr.Unmap(), uint16(port))
				add(granted, ap, sr.importers)
				if ep.Ready || ep.Degraded() {
					add(ready, ap, sr.importers)
				}
			}
		}
	}
	return ready, granted
}

// Accepts reports whether a new inbound tunnel from a waypoint of cluster may reach target:
// a ready (or degraded) endpoint of this waypoint's cluster that cluster imports from here.
func (s *View) Accepts(target netip.AddrPort, cluster string) bool {
	return s.local.allows(target, cluster)
}

// Grants reports whether an open inbound tunnel from a waypoint of cluster may stay on target:
// an endpoint of this waypoint's cluster in the store, ready or not, that cluster imports.
func (s *View) Grants(target netip.AddrPort, cluster string) bool {
	return s.granted.allows(target, cluster)
}

// Holds reports whether target is an endpoint of this waypoint's cluster in the store, ready or
// not, of a global service of the namespace that some cluster imports from here: whether
// target belongs to this namespace at all (a shared gateway dispatches a tunnel by it).
func (s *View) Holds(target netip.AddrPort) bool {
	return len(s.granted[target]) > 0
}

// gatewayIdentities returns the Identity of every waypoints record that names one (a shared
// gateway's), by cluster.
func gatewayIdentities(st *state) map[string]string {
	var out map[string]string
	for cluster, rec := range st.waypoints {
		if rec.Identity != "" {
			if out == nil {
				out = make(map[string]string)
			}
			out[cluster] = rec.Identity
		}
	}
	return out
}

// Publishes reports whether the namespace's waypoints record of cluster names id as the
// SPIFFE ID of the shared gateway serving the namespace there: a tunnel from id whose
// certificate names cluster comes from a gateway the hub published for this namespace.
func (s *View) Publishes(cluster, id string) bool {
	return id != "" && s.gateways[cluster] == id
}
