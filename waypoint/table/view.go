package table

import (
	"cmp"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/priority"
	"github.com/meshfed/meshfed/federation/store"

	"github.com/meshfed/meshfed/waypoint/balance"
)

// View is the endpoint table at one store revision: one Route per service port that has a
// waypoint port, sorted by listen port. It is immutable and shared by all connections.
type View struct {
	// Revision is the store revision the view reflects.
	Revision int64
	// Routes are sorted by ListenPort; a listen port appears once.
	Routes []*Route

	byPort  map[int32]*Route
	expires time.Time    // earliest end of an ejection among the routes; zero when none
	local   localTargets // where new inbound tunnels may go
	granted localTargets // where open inbound tunnels may stay
	// gateways are the SPIFFE IDs of the shared gateways serving the namespace, by cluster
	// (the Identity of the cluster's waypoints record).
	gateways map[string]string
	// services are the aggregated services tunnels may name, by hostname and service port.
	services map[tunnelName]*localService
}

// Route returns the route listening on port, or nil.
func (s *View) Route(port int32) *Route { return s.byPort[port] }

// builder turns store state into a View for one waypoint. pools carries outlier state from
// one build to the next; byService the routes (and local services) each service had in the
// last build, which a build after a store batch makes again only for the services the batch
// touched.
type builder struct {
	opts      Options
	log       *slog.Logger
	pools     map[string]*balance.Pool
	peers     map[string]*Peers // HBONE peers by cluster, from the waypoints records
	byService map[string]serviceRoutes
}

// serviceRoutes is what one build made of one service.
type serviceRoutes struct {
	routes []*Route
	local  []localEntry
	// importers are the clusters that import the service from this waypoint's cluster,
	// sorted: whose tunnels may reach its endpoints here.
	importers []string
}

// build computes the snapshot of st at rev and time now, and drops pools and hosts no route
// uses any more. It makes again the routes of the services the state names as touched (their
// records changed, or their outlier state: Table.RefreshRoute, an ejection ended), or of
// every service when full is set, when a waypoints record changed or the state was replaced.
func (b *builder) build(st *state, rev int64, now time.Time, full bool) *View {
	dirty, all := st.takeDirty()
	if full || all || b.byService == nil {
		b.peers = peerSets(st, &b.opts)
		b.byService = make(map[string]serviceRoutes, len(st.services))
		for key, svc := range st.services {
			b.byService[key] = b.service(st, key, svc, now)
		}
	} else {
		for key := range dirty {
			if svc := st.services[key]; svc != nil {
				b.byService[key] = b.service(st, key, svc, now)
			} else {
				delete(b.byService, key)
			}
		}
	}
	s := &View{Revision: rev, byPort: make(map[int32]*Route)}
	s.local, s.granted = b.indexTargets(st)
	s.gateways = gatewayIdentities(st)
	used := make(map[string]bool)
	for _, key := range slices.Sorted(maps.Keys(b.byService)) {
		sr := b.byService[key]
		for _, r := range sr.routes {
			if prev, taken := s.byPort[r.ListenPort]; taken {
				b.log.Warn("waypoint port allocated twice, keeping the first", "port", r.ListenPort, "service", r.Service(), "kept", prev.Service())
				continue
			}
			s.byPort[r.ListenPort] = r
			s.Routes = append(s.Routes, r)
			used[r.poolKey] = true
			if !r.expires.IsZero() && (s.expires.IsZero() || r.expires.Before(s.expires)) {
				s.expires = r.expires
			}
		}
		for _, l := range sr.local {
			if s.services == nil {
				s.services = make(map[tunnelName]*localService)
			}
			s.services[l.key] = l.service
			used[l.service.route.poolKey] = true
		}
	}
	for k := range b.pools {
		if !used[k] {
			delete(b.pools, k)
		}
	}
	slices.SortFunc(s.Routes, func(a, c *Route) int { return cmp.Compare(a.ListenPort, c.ListenPort) })
	return s
}

// service makes the routes of the service svc under key, and its local services.
func (b *builder) service(st *state, key string, svc *model.PublishedService, now time.Time) serviceRoutes {
	importers := merge.ReachOf(svc.Imports).To(b.opts.Cluster)
	slices.Sort(importers)
	importers = slices.Compact(importers)
	return serviceRoutes{
		routes: b.routes(svc, st.endpoints[key], now), importers: importers,
		local: b.localOf(st, key, svc, importers, now),
	}
}

// routes builds one route per port of svc with a waypoint port; none when this waypoint's
// cluster does not import svc.
func (b *builder) routes(svc *model.PublishedService, records map[string]*model.PublishedEndpoints, now time.Time) []*Route {
	groups := addressable(svc, records, b.opts.Cluster)
	if groups == nil {
		return nil
	}
	// A compacted record has no endpoint to route one by one.
	aggregate := svc.Load.Aggregated() || anyCompacted(records)
	var out []*Route
	for i, p := range svc.Ports {
		if wp := svc.WaypointPort(i); wp != 0 {
			out = append(out, b.buildRoute(svc, p, wp, groups, now, poolKey(svc, p.Port), aggregate))
		}
	}
	return out
}

// addressable returns the endpoint groups of the clusters whose endpoints client may address,
// with each endpoint's cluster filled in; nil when client does not import svc.
func addressable(svc *model.PublishedService, records map[string]*model.PublishedEndpoints, client string) []merge.ClusterEndpoints {
	eps := make(map[string][]model.Endpoint, len(records))
	for c, r := range records {
		eps[c] = r.Endpoints
	}
	return merge.ReachOf(svc.Imports).Endpoints(eps, client)
}

// buildRoute builds the route of one service port over groups, listening on waypoint port wp
// (0 for an inbound localService), with the outlier state of pool key pk; aggregate routes
// the endpoints of each cluster on another network as one (aggregate).
func (b *builder) buildRoute(svc *model.PublishedService, p model.Port, wp int32, groups []merge.ClusterEndpoints, now time.Time, pk string, aggregate bool) *Route {
	r := &Route{
		Namespace: svc.Namespace, Name: svc.Name, Domain: svc.Domain, Hostname: svc.Hostname,
		PortName: p.Name, Port: p.Port, ListenPort: wp, Distribution: svc.Distribution,
		Load: b.opts.Load.With(svc.Load), Protocol: ProtocolOf(p), Aggregated: aggregate, poolKey: pk,
		serviceKey: store.ServiceKey(svc.Namespace, svc.Domain, svc.Name).String(),
	}
	outlier := b.opts.Outlier.WithPolicy(svc.Outlier)
	r.pool = b.pools[pk]
	if r.pool == nil {
		r.pool = balance.NewPool(outlier)
		b.pools[pk] = r.pool
	} else {
		r.pool.Configure(outlier)
	}
	b.collect(r, groups, aggregate)
	client := priority.Client{Locality: b.opts.Locality, Labels: b.opts.Labels}
	tiers, err := priority.Assign(r.Endpoints, client, r.Distribution)
	if err != nil {
		r.Problem = "distribution " + string(r.Distribution.Mode) + " unusable, using " + string(model.DefaultBackendMode) + ": " + err.Error()
		b.log.Warn("unusable traffic distribution, using the default", "service", r.Service(), "mode", r.Distribution.Mode, "error", err)
		r.Distribution = model.Distribution{Mode: model.DefaultBackendMode}
		tiers, _ = priority.Assign(r.Endpoints, client, r.Distribution)
	}
	r.Tiers = tiers
	r.ejected = make([]bool, len(r.hosts))
	for i, h := range r.hosts {
		until := r.pool.EjectedUntil(h, now)
		r.ejected[i] = !until.IsZero()
		if r.ejected[i] && (r.expires.IsZero() || until.Before(r.expires)) {
			r.expires = until
		}
	}
	r.Plan = priority.NewPlan(r.Endpoints, r.Tiers, r.Ejected, r.Load)
	return r
}

// collect fills the route's endpoints, targets and hosts from the addressable groups and lists
// what it cannot route; with aggregate, the endpoints of a cluster on another network become
// one (addAggregate).
func (b *builder) collect(r *Route, groups []merge.ClusterEndpoints, aggregate bool) {
	keep := make(map[string]bool)
	var remote []int
	for _, g := range groups {
		remote = remote[:0]
		remoteNoPort := false
		for i, ep := range g.Endpoints {
			if ep.Locality.Cluster == "" {
				ep.Locality.Cluster = g.Cluster
			}
			aggregated := aggregate && ep.Locality.Network != b.opts.Locality.Network
			port, ok := ep.TargetPort(r.PortName)
			switch {
			case !ok && aggregated:
				remoteNoPort = true
				continue
			case !ok:
				r.Skipped = append(r.Skipped, Skipped{Cluster: g.Cluster, Address: ep.Address, Reason: SkipNoTargetPort})
				continue
			case aggregated:
				remote = append(remote, i)
				continue
			}
			target := net.JoinHostPort(ep.Address, strconv.Itoa(int(port)))
			key := balance.HostKey(g.Cluster, target)
			var via *Peers
			if ep.Locality.Network != b.opts.Locality.Network {
				var reason string
				if via, reason = b.tunnelPeers(g.Cluster); via == nil {
					r.Skipped = append(r.Skipped, Skipped{Cluster: g.Cluster, Address: ep.Address, Reason: reason})
					continue
				}
				key = tunnelHostKey(key)
			}
			if keep[key] {
				continue // the same target twice in one cluster's record: route it once
			}
			keep[key] = true
			h := r.pool.Host(key, g.Cluster, target)
			r.Endpoints = append(r.Endpoints, ep)
			r.Targets = append(r.Targets, target)
			r.hosts = append(r.hosts, h)
			r.SetVia(h, via)
		}
		if remoteNoPort {
			r.Skipped = append(r.Skipped, Skipped{Cluster: g.Cluster, Reason: SkipNoTargetPort})
		}
		if len(remote) > 0 {
			b.addAggregate(r, g.Cluster, g.Endpoints, remote, keep)
		}
	}
	r.pool.Retain(keep)
}

// poolKey identifies a service port across snapshots.
func poolKey(svc *model.PublishedService, port int32) string {
	return store.ServiceKey(svc.Namespace, svc.Domain, svc.Name).String() + "#" + strconv.Itoa(int(port))
}

// ServiceRoutes builds the routes of one service as the table of a waypoint with opts would,
// with no endpoint ejected: svc is the service's record, endpoints its endpoints records by
// cluster and waypoints the namespace's waypoints records by cluster (those of the clusters
// with endpoints suffice). It is for readers that look at one service without following the
// store, such as meshfedctl describe --from; nil when opts.Cluster does not import svc.
func ServiceRoutes(opts Options, svc *model.PublishedService, endpoints map[string]*model.PublishedEndpoints, waypoints map[string]*model.PublishedWaypoints) []*Route {
	opts = opts.withDefaults()
	st := state{waypoints: waypoints}
	b := builder{opts: opts, log: opts.Logger, pools: make(map[string]*balance.Pool), peers: peerSets(&st, &opts)}
	return b.routes(svc, endpoints, opts.Clock.Now())
}
