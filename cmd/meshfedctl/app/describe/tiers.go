package describe

import (
	"fmt"
	"slices"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/priority"
)

// tierView is one global service as a waypoint at a viewpoint would route it.
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
	// endpoints are the addressable endpoints, cluster by cluster; stale[i] marks endpoint i
	// as kept from an unreachable cluster.
	endpoints []model.Endpoint
	stale     []bool
	tiers     priority.Tiers
	health    []priority.TierHealth
	load      priority.Load
}

// computeTiers keeps the endpoints visible to the viewpoint's cluster (the record's Imports, as
// merge built them), ranks them for the viewpoint's locality and splits the load across tiers
// with the service's load policy over Envoy's defaults, as a waypoint does, and no ejections.
func computeTiers(v *storeView, from *viewpoint, mc *meshfedv1.MemberCluster) (*tierView, error) {
	svc := v.service
	tv := &tierView{
		from:   *from,
		client: model.Locality{Network: mc.Spec.Network, Region: mc.Spec.Region, Zone: from.Zone, Cluster: from.Cluster},
		dist:   svc.Distribution,
		policy: svc.Load,
	}
	tv.visible = merge.ReachOf(svc.Imports).From(from.Cluster)
	for _, e := range svc.Exporters {
		if !slices.Contains(tv.visible, e.Cluster) {
			tv.hidden = append(tv.hidden, e)
		}
	}
	tv.endpoints, tv.stale = visibleEndpoints(v.endpoints, tv.visible)
	tiers, err := priority.Assign(tv.endpoints, priority.Client{Locality: tv.client}, tv.dist)
	if err != nil {
		return nil, fmt.Errorf("failed to compute tiers of %s/%s from %s: %w", svc.Namespace, svc.Name, from.Cluster, err)
	}
	tv.tiers = tiers
	tv.health = tiers.Health(tv.endpoints, nil)
	tv.load = priority.Distribute(tv.health, priority.LoadOptions{}.With(tv.policy))
	return tv, nil
}

// visibleEndpoints copies the endpoints of the visible clusters, filling in each endpoint's
// cluster from its record where the endpoint leaves it empty (PreferCluster ranks by it).
func visibleEndpoints(records []*model.PublishedEndpoints, visible []string) ([]model.Endpoint, []bool) {
	var (
		eps   []model.Endpoint
		stale []bool
	)
	for _, r := range records {
		if !slices.Contains(visible, r.Cluster) {
			continue
		}
		for _, e := range r.Endpoints {
			if e.Locality.Cluster == "" {
				e.Locality.Cluster = r.Cluster
			}
			eps = append(eps, e)
			stale = append(stale, r.Stale)
		}
	}
	return eps, stale
}
