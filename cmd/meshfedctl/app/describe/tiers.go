package describe

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	wptable "github.com/meshfed/meshfed/waypoint/table"
)

// tierView is one global service as a waypoint at a viewpoint would route it: the routes the
// waypoint's own table builder (waypoint/table) makes of the store's records, one per service
// port with a waypoint port.
type tierView struct {
	from   viewpoint
	client model.Locality
	dist   model.Distribution
	// policy is the service's load policy, nil for Envoy's defaults.
	policy *model.LoadPolicy
	// visible lists the exporting clusters the viewpoint's cluster may address; nil when it
	// does not import the service.
	visible []string
	// hidden lists the exporters it may not address.
	hidden []model.Exporter
	// routes are the waypoint's routes of the service, sorted by service port as the service
	// lists them; stale marks the clusters whose endpoints are kept from an unreachable member.
	routes []*wptable.Route
	stale  map[string]bool
}

// computeTiers builds the service's routes with the table builder of a waypoint in the
// viewpoint's cluster, network and region from its MemberCluster and zone from the flag: only
// the endpoints of the clusters it imports from, ranked for its locality, load split with the
// service's load policy over Envoy's defaults, no ejections. Endpoints on other networks are
// routed through their cluster's waypoints, as a waypoint with HBONE credentials (the
// deployment meshfedctl writes) does, and skipped where the store has no waypoint address.
func computeTiers(v *storeView, from *viewpoint, mc *meshfedv1.MemberCluster, log *slog.Logger) *tierView {
	svc := v.service
	tv := &tierView{
		from:   *from,
		client: model.Locality{Network: mc.Spec.Network, Region: mc.Spec.Region, Zone: from.Zone, Cluster: from.Cluster},
		dist:   svc.Distribution,
		policy: svc.Load,
		stale:  make(map[string]bool),
	}
	tv.visible = merge.ReachOf(svc.Imports).From(from.Cluster)
	for _, e := range svc.Exporters {
		if !slices.Contains(tv.visible, e.Cluster) {
			tv.hidden = append(tv.hidden, e)
		}
	}
	endpoints := make(map[string]*model.PublishedEndpoints, len(v.endpoints))
	for _, r := range v.endpoints {
		endpoints[r.Cluster] = r
		tv.stale[r.Cluster] = r.Stale
	}
	opts := wptable.Options{
		Namespace: svc.Namespace, Cluster: from.Cluster, Locality: tv.client, Tunnels: true, Logger: log,
	}
	tv.routes = wptable.ServiceRoutes(opts, svc, endpoints, v.waypoints)
	return tv
}

// loadWaypoints reads the waypoints records of the clusters that have endpoints of the
// service: the addresses a waypoint tunnels to their endpoints on other networks through.
func loadWaypoints(ctx context.Context, st *store.Client, v *storeView, ns string) error {
	v.waypoints = make(map[string]*model.PublishedWaypoints)
	for _, r := range v.endpoints {
		e, found, err := st.Get(ctx, store.WaypointsKey(ns, r.Cluster))
		switch {
		case err != nil && found:
			v.decodeErrors = append(v.decodeErrors, err)
		case err != nil:
			return fmt.Errorf("failed to read waypoints record of %s/%s: %w", ns, r.Cluster, err)
		case found:
			if w, ok := e.Record.(*store.WaypointsRecord); ok {
				m := w.Model()
				v.waypoints[r.Cluster] = &m
			}
		}
	}
	return nil
}
