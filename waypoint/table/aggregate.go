package table

import (
	"maps"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/waypoint/balance"
)

// A service whose load policy aggregates remote endpoints (model.RemoteEndpointsAggregated)
// is routed, in each cluster on another network, to one endpoint that stands for all of that
// cluster's: weighted by how many of them are healthy, tunnelled to the service by name
// through the cluster's waypoints, whose inbound server picks one of its own cluster's
// endpoints (localService). The caller's waypoint then holds one host per remote cluster,
// and the remote waypoint balances, ejects and fails over inside its cluster.

// ServiceTarget is the tunnel target naming the service host on port, "host:port": what an
// aggregated endpoint's tunnel asks the peer for (hbone.ParseServiceAuthority parses it).
func ServiceTarget(host string, port int32) string {
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}

// aggregate returns the endpoint that stands for the endpoints eps[i], i in idx, of cluster
// on another network, serving the route's port: healthy while one of them is, weighted by the
// healthy ones' weights; degraded (serving and terminating), weighted by the degraded ones',
// while only degraded ones serve; else not ready, of weight 1. Its locality is what they all
// share, from the network down (a level that differs clears the narrower ones); its labels
// those they all carry with one value. It has no address: Ports names the service port itself,
// which the peer resolves.
func aggregate(r *Route, cluster string, eps []model.Endpoint, idx []int) model.Endpoint {
	first := &eps[idx[0]]
	agg := model.Endpoint{
		Ports:    []model.EndpointPort{{Name: r.PortName, Port: r.Port}},
		Locality: first.Locality,
		Labels:   maps.Clone(first.Labels),
	}
	agg.Locality.Node, agg.Locality.Cluster = "", cluster
	var healthy, degraded uint64
	for _, i := range idx {
		ep := &eps[i]
		agg.Locality = sharedLocality(agg.Locality, ep.Locality)
		for k, v := range agg.Labels {
			if ep.Labels[k] != v {
				delete(agg.Labels, k)
			}
		}
		switch {
		case ep.Healthy():
			healthy += uint64(ep.EffectiveWeight())
		case ep.Degraded():
			degraded += uint64(ep.EffectiveWeight())
		}
	}
	if len(agg.Labels) == 0 {
		agg.Labels = nil
	}
	switch {
	case healthy > 0:
		agg.Ready, agg.Serving, agg.Weight = true, true, clampWeight(healthy)
	case degraded > 0:
		agg.Serving, agg.Terminating, agg.Weight = true, true, clampWeight(degraded)
	default:
		agg.Weight = 1
	}
	return agg
}

// sharedLocality is the part of a that b shares, from the network down; Cluster is a's.
func sharedLocality(a, b model.Locality) model.Locality {
	levels := [...]*string{&a.Network, &a.Region, &a.Zone, &a.Subzone}
	other := [...]string{b.Network, b.Region, b.Zone, b.Subzone}
	for i, l := range levels {
		if *l != other[i] {
			for _, narrower := range levels[i:] {
				*narrower = ""
			}
			break
		}
	}
	return a
}

// clampWeight caps a summed weight at the largest endpoint weight.
func clampWeight(w uint64) uint32 {
	return uint32(min(w, uint64(^uint32(0))))
}

// addAggregate adds to r the endpoint standing for eps[i], i in idx, of cluster (on another
// network, serving r's port), tunnelled to the service through the cluster's waypoints, or
// lists the cluster (without an address: it is skipped whole) when no tunnel can reach it.
func (b *builder) addAggregate(r *Route, cluster string, eps []model.Endpoint, idx []int, keep map[string]bool) {
	via, reason := b.tunnelPeers(cluster)
	if via == nil {
		r.Skipped = append(r.Skipped, Skipped{Cluster: cluster, Reason: reason})
		return
	}
	target := ServiceTarget(r.Hostname, r.Port)
	key := tunnelHostKey(balance.HostKey(cluster, target))
	keep[key] = true
	h := r.pool.Host(key, cluster, target)
	r.Endpoints = append(r.Endpoints, aggregate(r, cluster, eps, idx))
	r.Targets = append(r.Targets, target)
	r.hosts = append(r.hosts, h)
	r.SetVia(h, via)
}

// localService is a service of the namespace whose remote endpoints are aggregated, as this
// waypoint's inbound server serves tunnels that name it: a route over this cluster's ready
// (or degraded) endpoints of one service port, balanced from this waypoint's locality with an
// outlier state of its own, and the clusters that import the service from this one.
type localService struct {
	route     *Route
	importers []string // sorted
}

// tunnelName is a service port as a tunnel names it: the service's hostname and port.
type tunnelName struct {
	host string
	port int32
}

// localEntry is one local service of a service, under the key tunnels name it by.
type localEntry struct {
	key     tunnelName
	service *localService
}

// localOf builds the local service of every port of svc (under key) when its remote
// endpoints are aggregated, this cluster has endpoints of it and some cluster imports it from
// this one (importers, sorted); none otherwise.
func (b *builder) localOf(st *state, key string, svc *model.PublishedService, importers []string, now time.Time) []localEntry {
	if !svc.Load.Aggregated() || len(importers) == 0 {
		return nil
	}
	rec := st.endpoints[key][b.opts.Cluster]
	if rec == nil {
		return nil
	}
	var serving []model.Endpoint
	for _, ep := range rec.Endpoints {
		if ep.Ready || ep.Degraded() {
			serving = append(serving, ep)
		}
	}
	groups := []merge.ClusterEndpoints{{Cluster: b.opts.Cluster, Endpoints: serving}}
	out := make([]localEntry, 0, len(svc.Ports))
	for _, p := range svc.Ports {
		out = append(out, localEntry{tunnelName{svc.Hostname, p.Port}, &localService{
			route:     b.buildRoute(svc, p, 0, groups, now, poolKey(svc, p.Port)+" local", false),
			importers: importers,
		}})
	}
	return out
}

// LocalService returns the route over this cluster's endpoints on which the inbound server
// balances a tunnel from a waypoint of cluster that names the service host on port: one of
// the namespace's services whose remote endpoints are aggregated, which cluster imports from
// this one. ok is false when the tunnel may not name it.
func (s *View) LocalService(host string, port uint16, cluster string) (r *Route, ok bool) {
	ls := s.services[tunnelName{host, int32(port)}]
	if ls == nil {
		return nil, false
	}
	if _, found := slices.BinarySearch(ls.importers, cluster); !found {
		return nil, false
	}
	return ls.route, true
}

// HoldsService reports whether host on port is a service of the namespace whose remote
// endpoints are aggregated and that some cluster imports from this one: whether a tunnel
// naming it belongs to this namespace (a shared gateway dispatches a tunnel by it).
func (s *View) HoldsService(host string, port uint16) bool {
	return s.services[tunnelName{host, int32(port)}] != nil
}
