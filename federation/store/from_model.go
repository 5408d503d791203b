package store

import (
	"weak"

	"github.com/meshfed/meshfed/federation/model"
)

// This file is the hub's side of the store's format: model → record. The records share slices
// and maps of strings with the model values they are built from; neither may be changed while
// the other is in use. A nil slice stays nil (stored as null or left out), an empty one empty.

// NewClusterRecord is the record of a member cluster.
func NewClusterRecord(c *model.PublishedCluster) *ClusterRecord {
	return &ClusterRecord{
		Name: c.Name, Network: c.Network, Region: c.Region, Segment: c.Segment,
		Ready: c.Ready, LastSync: c.LastSync,
	}
}

// NewServiceRecord is the record of a global service. Exporters are stored without their
// endpoint counts (see StoredExporter).
func NewServiceRecord(s *model.PublishedService) *ServiceRecord {
	ports := make([]StoredPort, len(s.Ports))
	for i, p := range s.Ports {
		ports[i] = StoredPort{Name: p.Name, Port: p.Port, Protocol: p.Protocol, AppProtocol: p.AppProtocol, WaypointPort: s.WaypointPort(i)}
	}
	return &ServiceRecord{
		Namespace: s.Namespace, Name: s.Name, Domain: s.Domain, Hostname: s.Hostname,
		Scope: string(s.Scope), Takeover: s.Takeover, Type: string(s.Type), Ports: ports,
		Distribution: storedDistribution(s.Distribution), Outlier: storedOutlier(s.Outlier),
		LoadPolicy: storedLoadPolicy(s.Load), Properties: storedProperties(&s.Properties),
		Exporters: convert(s.Exporters, func(e *model.Exporter) StoredExporter {
			return StoredExporter{Cluster: e.Cluster, Scope: string(e.Scope)}
		}),
		Imports: convert(s.Imports, func(im *model.Import) StoredImport {
			return StoredImport{Cluster: im.Cluster, From: im.From}
		}),
		Conflicts: convert(s.Conflicts, func(c *model.Conflict) StoredConflict {
			return StoredConflict{Reason: string(c.Reason), Message: c.Message, Clusters: c.Clusters}
		}),
	}
}

// NewEndpointsRecord is the record of one cluster's endpoints of a global service.
func NewEndpointsRecord(e *model.PublishedEndpoints) *EndpointsRecord {
	return &EndpointsRecord{
		Namespace: e.Namespace, Domain: e.Domain, Name: e.Name, Cluster: e.Cluster,
		Scope: string(e.Scope), Stale: e.Stale, Endpoints: storedEndpoints(e.Endpoints),
	}
}

// NewEndpointsRecordAfter is NewEndpointsRecord(e) made from prev, the record NewEndpointsRecord
// (or NewEndpointsRecordAfter) made of the same fields with patch.Base for endpoints: only the
// endpoints inside the patch's splices are converted, the others are prev's. The record
// remembers the splices, so that a Writer that stored prev (and still holds it) digests and
// encodes only the chunks they touch. When prev does not fit the patch (another length or
// other fields), it is NewEndpointsRecord(e). prev must not be modified, nor the endpoints it
// shares with the new record.
func NewEndpointsRecordAfter(prev *EndpointsRecord, e *model.PublishedEndpoints, patch *model.EndpointsPatch) *EndpointsRecord {
	r := &EndpointsRecord{Namespace: e.Namespace, Domain: e.Domain, Name: e.Name, Cluster: e.Cluster, Scope: string(e.Scope), Stale: e.Stale}
	if prev == nil || e.Endpoints == nil || !patch.Fits(len(e.Endpoints)) || len(prev.Endpoints) != len(patch.Base) ||
		prev.Namespace != r.Namespace || prev.Domain != r.Domain || prev.Name != r.Name || prev.Cluster != r.Cluster ||
		prev.Scope != r.Scope || prev.Stale != r.Stale {
		return NewEndpointsRecord(e)
	}
	r.Endpoints = model.ApplyPatch(patch, prev.Endpoints, len(e.Endpoints), func(i int) StoredEndpoint {
		var ports []StoredEndpointPort
		if e.Endpoints[i].Ports != nil {
			ports = make([]StoredEndpointPort, 0, len(e.Endpoints[i].Ports))
		}
		return storedEndpoint(&e.Endpoints[i], &ports)
	})
	r.after = &recordPatch{prev: weak.Make(prev), splices: patch.Splices}
	return r
}

// recordPatch is how a record was made from an earlier one: prev's endpoints with the
// splices' runs replaced. prev is held weakly: a record does not keep every earlier version
// alive, and a Writer that still holds prev holds it itself.
type recordPatch struct {
	prev    weak.Pointer[EndpointsRecord]
	splices []model.Splice
}

// NewWaypointsRecord is the record of a namespace's waypoints in one cluster.
func NewWaypointsRecord(w *model.PublishedWaypoints) *WaypointsRecord {
	return &WaypointsRecord{
		Namespace: w.Namespace, Cluster: w.Cluster, Network: w.Network, Addresses: w.Addresses,
		Gateway: w.Gateway, Identity: w.Identity,
	}
}

func storedDistribution(d model.Distribution) StoredDistribution {
	return StoredDistribution{Mode: string(d.Mode), FailoverPriority: d.FailoverPriority}
}

func storedOutlier(p *model.OutlierPolicy) *StoredOutlier {
	if p == nil {
		return nil
	}
	return &StoredOutlier{
		Consecutive5xxErrors:           clonePtr(p.Consecutive5xxErrors),
		ConsecutiveGatewayErrors:       clonePtr(p.ConsecutiveGatewayErrors),
		ConsecutiveLocalOriginFailures: clonePtr(p.ConsecutiveLocalOriginFailures),
		BaseEjectionTime:               castPtr[StoredDuration](p.BaseEjectionTime),
		MaxEjectionTime:                castPtr[StoredDuration](p.MaxEjectionTime),
		MaxEjectionPercent:             clonePtr(p.MaxEjectionPercent),
	}
}

func storedLoadPolicy(p *model.LoadPolicy) *StoredLoadPolicy {
	if p == nil {
		return nil
	}
	return &StoredLoadPolicy{
		OverprovisioningFactor: clonePtr(p.OverprovisioningFactor), PanicThreshold: clonePtr(p.PanicThreshold),
		RemoteEndpoints: string(p.RemoteEndpoints),
	}
}

// storedProperties is nil when no property is set, so that a record without them keeps its
// bytes.
func storedProperties(p *model.ServiceProperties) *StoredProperties {
	if p.SessionAffinity == "" && p.SessionAffinityTimeout == nil && p.InternalTrafficPolicy == "" && p.TrafficDistribution == "" && len(p.IPFamilies) == 0 {
		return nil
	}
	out := &StoredProperties{
		SessionAffinity: p.SessionAffinity, SessionAffinityTimeoutSeconds: clonePtr(p.SessionAffinityTimeout),
		InternalTrafficPolicy: p.InternalTrafficPolicy, TrafficDistribution: p.TrafficDistribution,
	}
	if len(p.IPFamilies) > 0 {
		out.IPFamilies = p.IPFamilies
	}
	return out
}

// storedEndpoints converts endpoints with two allocations however many there are: the
// endpoints, and one backing array for all their ports (each endpoint's ports a capped
// subslice of it).
func storedEndpoints(in []model.Endpoint) []StoredEndpoint {
	if in == nil {
		return nil
	}
	ports := make([]StoredEndpointPort, 0, countPorts(in, func(e *model.Endpoint) int { return len(e.Ports) }))
	out := make([]StoredEndpoint, len(in))
	for i := range in {
		out[i] = storedEndpoint(&in[i], &ports)
	}
	return out
}

// storedEndpoint converts one endpoint, appending its ports to *ports (its own ports are a
// capped subslice of it; nil stays nil).
func storedEndpoint(e *model.Endpoint, ports *[]StoredEndpointPort) StoredEndpoint {
	l := &e.Locality
	out := StoredEndpoint{
		Address: e.Address, Hostname: e.Hostname,
		Locality: StoredLocality{Network: l.Network, Region: l.Region, Zone: l.Zone, Subzone: l.Subzone, Node: l.Node, Cluster: l.Cluster},
		Ready:    e.Ready, Serving: e.Serving, Terminating: e.Terminating, Weight: e.Weight, Labels: e.Labels,
	}
	if e.Ports != nil {
		start := len(*ports)
		for _, p := range e.Ports {
			*ports = append(*ports, StoredEndpointPort{Name: p.Name, Port: p.Port})
		}
		out.Ports = (*ports)[start:len(*ports):len(*ports)]
	}
	return out
}

// countPorts sums the ports of every endpoint, to size one backing array for all of them.
func countPorts[E any](eps []E, ports func(*E) int) int {
	n := 0
	for i := range eps {
		n += ports(&eps[i])
	}
	return n
}

// convert maps a slice element by element; nil stays nil.
func convert[From, To any](in []From, f func(*From) To) []To {
	if in == nil {
		return nil
	}
	out := make([]To, len(in))
	for i := range in {
		out[i] = f(&in[i])
	}
	return out
}

// clonePtr copies *v into a new pointer; nil stays nil.
func clonePtr[T any](v *T) *T {
	if v == nil {
		return nil
	}
	c := *v
	return &c
}

// castPtr copies *v, converted to To, into a new pointer; nil stays nil.
func castPtr[To, From ~int64](v *From) *To {
	if v == nil {
		return nil
	}
	c := To(*v)
	return &c
}

// NewGatewayRecord is the record of a shared gateway.
func NewGatewayRecord(g *model.PublishedGateway) *GatewayRecord {
	return &GatewayRecord{Cluster: g.Cluster, Namespace: g.Namespace, Serves: g.Serves}
}
