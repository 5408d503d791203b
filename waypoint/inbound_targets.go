package waypoint

import (
	"net/netip"
	"slices"

	"github.com/meshfed/meshfed/federation/model"
)

// localTargets is what the inbound server may connect to: every ip:port of a ready endpoint of
// this waypoint's cluster serving a port of a global service of the namespace, with the
// clusters whose import of that service lists this cluster (sorted, deduplicated).
type localTargets map[netip.AddrPort][]string

// allows reports whether a tunnel from a waypoint of cluster may reach target.
func (l localTargets) allows(target netip.AddrPort, cluster string) bool {
	_, ok := slices.BinarySearch(l[target], cluster)
	return ok
}

// indexLocalTargets builds the localTargets of cluster from the store state: the targets new
// tunnels may reach.
func indexLocalTargets(st *state, cluster string) localTargets {
	return indexTargets(st, cluster, func(ep *model.Endpoint) bool { return ep.Ready })
}

// indexGrantedTargets is indexLocalTargets over every endpoint in the store, ready or not:
// an open tunnel stays open while its target is listed here (an endpoint that stops being
// ready drains), and is closed once it is not (the endpoint, its service or the caller's
// import was withdrawn).
func indexGrantedTargets(st *state, cluster string) localTargets {
	return indexTargets(st, cluster, func(*model.Endpoint) bool { return true })
}

func indexTargets(st *state, cluster string, include func(*model.Endpoint) bool) localTargets {
	out := make(localTargets)
	for key, svc := range st.services {
		rec := st.endpoints[key][cluster]
		if rec == nil {
			continue
		}
		var importers []string
		for _, imp := range svc.Imports {
			if slices.Contains(imp.From, cluster) {
				importers = append(importers, imp.Cluster)
			}
		}
		if len(importers) == 0 {
			continue
		}
		for i := range rec.Endpoints {
			ep := &rec.Endpoints[i]
			addr, err := netip.ParseAddr(ep.Address)
			if !include(ep) || err != nil {
				continue
			}
			for _, p := range svc.Ports {
				port, ok := ep.TargetPort(p.Name)
				if !ok || port <= 0 || port > 65535 {
					continue
				}
				ap := netip.AddrPortFrom(addr.Unmap(), uint16(port))
				out[ap] = append(out[ap], importers...)
			}
		}
	}
	for ap, clusters := range out {
		slices.Sort(clusters)
		out[ap] = slices.Compact(clusters)
	}
	return out
}
