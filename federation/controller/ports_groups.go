package controller

import (
	"maps"
	"slices"

	"github.com/meshfed/meshfed/federation/store"
)

// PortGroups maps a namespace to its port group: the namespaces whose waypoint ports must all
// differ because one shared gateway, in some cluster, listens for several of them (DESIGN §4).
// A group is named by its first namespace; a namespace not in the map is a group of its own.
type PortGroups map[string]string

// of is the group of namespace ns.
func (g PortGroups) of(ns string) string {
	if group, ok := g[ns]; ok {
		return group
	}
	return ns
}

// GatewayPortGroups groups the namespaces the shared gateways serve, from the waypoints
// records of every cluster: the namespaces one gateway (a gateway namespace in one cluster)
// serves share a group, and groups with a namespace in common are one, so that a namespace a
// gateway serves in cluster A and another gateway in cluster B links both gateways'
// namespaces. Records of a namespace's own waypoints link nothing.
func GatewayPortGroups(records []store.Record) PortGroups {
	parent := map[string]string{}
	var find func(string) string
	find = func(ns string) string {
		p, ok := parent[ns]
		if !ok || p == ns {
			parent[ns] = ns
			return ns
		}
		root := find(p)
		parent[ns] = root
		return root
	}
	union := func(a, b string) {
		ra, rb := find(a), find(b)
		if ra != rb {
			parent[max(ra, rb)] = min(ra, rb)
		}
	}
	type gateway struct{ cluster, namespace string }
	first := map[gateway]string{}
	for _, r := range records {
		w, ok := r.(*store.WaypointsRecord)
		if !ok || w.Gateway == "" {
			continue
		}
		gw := gateway{w.Cluster, w.Gateway}
		if f, ok := first[gw]; ok {
			union(f, w.Namespace)
		} else {
			first[gw] = w.Namespace
			find(w.Namespace)
		}
	}
	out := make(PortGroups, len(parent))
	for _, ns := range slices.Collect(maps.Keys(parent)) {
		out[ns] = find(ns)
	}
	return out
}
