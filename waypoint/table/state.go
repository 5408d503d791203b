package table

import (
	"log/slog"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
)

// state is what the store holds for one namespace, as far as the waypoint uses it, read with
// the store's conversion: services by service key, endpoints by service key then cluster, and
// the namespace's waypoint addresses by cluster.
type state struct {
	services  map[string]*model.PublishedService
	endpoints map[string]map[string]*model.PublishedEndpoints
	waypoints map[string]*model.PublishedWaypoints

	// network is the waypoint's own network: the endpoints records of an aggregated service's
	// clusters on other networks are kept compacted (compact.go).
	network string

	// dirty are the keys of the services whose record or endpoints records changed since the
	// builder last took them (takeDirty); all says that anything may have: a snapshot, or a
	// waypoints record, which every route through that cluster depends on.
	dirty map[string]struct{}
	all   bool
	// reread says that a service whose records are kept compacted is no longer aggregated:
	// its records must be read again whole from the store (Table.Run does).
	reread bool
}

func newState(network string) state {
	return state{
		services:  make(map[string]*model.PublishedService),
		endpoints: make(map[string]map[string]*model.PublishedEndpoints),
		waypoints: make(map[string]*model.PublishedWaypoints),
		network:   network,
		dirty:     make(map[string]struct{}),
		all:       true,
	}
}

// touch names the service under key as touched, so that the next build makes its routes
// again (its outlier state changed).
func (s *state) touch(key string) { s.dirty[key] = struct{}{} }

// takeDirty returns what changed since the last call (the services' keys, or all) and forgets
// it.
func (s *state) takeDirty() (keys map[string]struct{}, all bool) {
	keys, all = s.dirty, s.all
	s.dirty, s.all = make(map[string]struct{}), false
	return keys, all
}

// apply applies one watch batch; a snapshot replaces everything. It reports whether anything
// the waypoint uses may have changed. A value that failed to decode removes what was held for
// its key, as the store's contract asks, and is reported.
func (s *state) apply(b store.Batch, log *slog.Logger) bool {
	changed := false
	if b.Snapshot {
		changed = len(s.services) > 0 || len(s.endpoints) > 0 || len(s.waypoints) > 0
		*s = newState(s.network)
	}
	// Service records first, so that an aggregated service's endpoints records arriving in the
	// same batch (a snapshot lists endpoints keys before services keys) are kept compacted at
	// once. Events of one key keep their order.
	for _, services := range [...]bool{true, false} {
		for i := range b.Events {
			if isService(&b.Events[i]) == services && s.applyEvent(&b.Events[i], log) {
				changed = true
			}
		}
	}
	return changed
}

// isService reports whether ev is a service record's.
func isService(ev *store.Event) bool { return ev.Key.Kind == store.KindService }

func (s *state) applyEvent(ev *store.Event, log *slog.Logger) bool {
	if ev.Err != nil {
		log.Warn("ignoring undecodable store value", "key", ev.Err.Key, "revision", ev.Revision, "error", ev.Err)
		return s.remove(ev.Key)
	}
	if ev.Type == store.EventDelete {
		return s.remove(ev.Key)
	}
	switch r := ev.Record.(type) {
	case *store.ServiceRecord:
		m := r.Model()
		key := r.Key().String()
		s.services[key] = &m
		s.dirty[key] = struct{}{}
		if m.Load.Aggregated() {
			for _, rec := range s.endpoints[key] {
				s.compact(rec)
			}
		} else {
			s.rereadIfCompacted(key)
		}
		return true
	case *store.EndpointsRecord:
		svc := serviceKeyOf(r.Key()).String()
		if s.endpoints[svc] == nil {
			s.endpoints[svc] = make(map[string]*model.PublishedEndpoints)
		}
		m := r.Model()
		if p := s.services[svc]; p != nil && p.Load.Aggregated() {
			s.compact(&m)
		}
		s.endpoints[svc][r.Cluster] = &m
		s.dirty[svc] = struct{}{}
		return true
	case *store.WaypointsRecord:
		m := r.Model()
		s.waypoints[r.Cluster] = &m
		s.all = true
		return true
	}
	return false
}

// remove drops what is held for k; zero keys (malformed) are ignored.
func (s *state) remove(k store.Key) bool {
	switch k.Kind {
	case store.KindService:
		_, ok := s.services[k.String()]
		delete(s.services, k.String())
		if ok {
			s.dirty[k.String()] = struct{}{}
			s.rereadIfCompacted(k.String())
		}
		return ok
	case store.KindEndpoints:
		svc := serviceKeyOf(k).String()
		byCluster := s.endpoints[svc]
		_, ok := byCluster[k.Cluster]
		delete(byCluster, k.Cluster)
		if len(byCluster) == 0 {
			delete(s.endpoints, svc)
		}
		if ok {
			s.dirty[svc] = struct{}{}
		}
		return ok
	case store.KindWaypoints:
		_, ok := s.waypoints[k.Cluster]
		delete(s.waypoints, k.Cluster)
		s.all = s.all || ok
		return ok
	default:
		return false
	}
}

// serviceKeyOf is the key of the service an endpoints key belongs to.
func serviceKeyOf(k store.Key) store.Key { return store.ServiceKey(k.Namespace, k.Domain, k.Name) }
