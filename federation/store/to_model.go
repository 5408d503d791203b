package store

import (
	"time"

	"github.com/meshfed/meshfed/federation/model"
)

// This file is the readers' side of the store's format: record → model. Every reader (the hub
// carrying a member over, the waypoint, the CLI) converts with these methods. The model values
// share slices and maps of strings with the record; neither may be changed while the other is
// in use. A nil slice stays nil.

// Model is the member cluster the record describes.
func (r *ClusterRecord) Model() model.PublishedCluster {
	return model.PublishedCluster{
		Cluster: model.Cluster{Name: r.Name, Segment: r.Segment, Network: r.Network, Region: r.Region},
		Ready:   r.Ready, LastSync: r.LastSync,
	}
}

// Model is the global service the record describes. Its exporters carry no endpoint counts.
func (r *ServiceRecord) Model() model.PublishedService {
	s := model.PublishedService{
		GlobalService: model.GlobalService{
			Namespace: r.Namespace, Name: r.Name, Domain: r.Domain, Hostname: r.Hostname,
			Scope: model.Scope(r.Scope), Takeover: r.Takeover, Type: model.ServiceType(r.Type),
			Ports:        r.modelPorts(),
			Distribution: model.Distribution{Mode: model.Mode(r.Distribution.Mode), FailoverPriority: r.Distribution.FailoverPriority},
			Outlier:      modelOutlier(r.Outlier),
			Load:         modelLoadPolicy(r.LoadPolicy),
			Properties:   modelProperties(r.Properties),
			Exporters: convert(r.Exporters, func(e *StoredExporter) model.Exporter {
				return model.Exporter{Cluster: e.Cluster, Scope: model.Scope(e.Scope), Endpoints: e.Endpoints, Ready: e.Ready}
			}),
			Imports: convert(r.Imports, func(im *StoredImport) model.Import {
				return model.Import{Cluster: im.Cluster, From: im.From}
			}),
			Conflicts: convert(r.Conflicts, func(c *StoredConflict) model.Conflict {
				return model.Conflict{Reason: model.ConflictReason(c.Reason), Message: c.Message, Clusters: c.Clusters}
			}),
		},
		WaypointPorts: r.waypointPorts(),
	}
	return s
}

// PortsModel is the part of Model that names the service and its ports: its namespace, name,
// domain and hostname, its ports and their waypoint ports. It leaves out the exporters,
// imports and conflicts, which grow with the clusters: the hub's allocation of waypoint ports
// reads every service's ports in every pass.
func (r *ServiceRecord) PortsModel() model.PublishedService {
	return model.PublishedService{
		GlobalService: model.GlobalService{Namespace: r.Namespace, Name: r.Name, Domain: r.Domain, Hostname: r.Hostname, Ports: r.modelPorts()},
		WaypointPorts: r.waypointPorts(),
	}
}

func (r *ServiceRecord) modelPorts() []model.Port {
	return convert(r.Ports, func(p *StoredPort) model.Port {
		return model.Port{Name: p.Name, Port: p.Port, Protocol: p.Protocol, AppProtocol: p.AppProtocol}
	})
}

func (r *ServiceRecord) waypointPorts() []int32 {
	return convert(r.Ports, func(p *StoredPort) int32 { return p.WaypointPort })
}

// Model is the cluster's endpoints the record describes.
func (r *EndpointsRecord) Model() model.PublishedEndpoints {
	return model.PublishedEndpoints{
		Namespace: r.Namespace, Domain: r.Domain, Name: r.Name, Cluster: r.Cluster,
		Scope: model.Scope(r.Scope), Stale: r.Stale, Endpoints: modelEndpoints(r.Endpoints),
	}
}

// Model is the namespace's waypoints the record describes.
func (r *WaypointsRecord) Model() model.PublishedWaypoints {
	return model.PublishedWaypoints{
		Namespace: r.Namespace, Cluster: r.Cluster, Network: r.Network, Addresses: r.Addresses,
		Gateway: r.Gateway, Identity: r.Identity,
	}
}

func modelOutlier(p *StoredOutlier) *model.OutlierPolicy {
	if p == nil {
		return nil
	}
	return &model.OutlierPolicy{
		Consecutive5xxErrors:           clonePtr(p.Consecutive5xxErrors),
		ConsecutiveGatewayErrors:       clonePtr(p.ConsecutiveGatewayErrors),
		ConsecutiveLocalOriginFailures: clonePtr(p.ConsecutiveLocalOriginFailures),
		BaseEjectionTime:               castPtr[time.Duration](p.BaseEjectionTime),
		MaxEjectionTime:                castPtr[time.Duration](p.MaxEjectionTime),
		MaxEjectionPercent:             clonePtr(p.MaxEjectionPercent),
	}
}

func modelLoadPolicy(p *StoredLoadPolicy) *model.LoadPolicy {
	if p == nil {
		return nil
	}
	return &model.LoadPolicy{
		OverprovisioningFactor: clonePtr(p.OverprovisioningFactor), PanicThreshold: clonePtr(p.PanicThreshold),
		RemoteEndpoints: model.RemoteEndpoints(p.RemoteEndpoints),
	}
}

// modelProperties reads absent properties as none set.
func modelProperties(p *StoredProperties) model.ServiceProperties {
	if p == nil {
		return model.ServiceProperties{}
	}
	return model.ServiceProperties{
		SessionAffinity: p.SessionAffinity, SessionAffinityTimeout: clonePtr(p.SessionAffinityTimeoutSeconds),
		InternalTrafficPolicy: p.InternalTrafficPolicy, TrafficDistribution: p.TrafficDistribution, IPFamilies: p.IPFamilies,
	}
}

// modelEndpoints converts endpoints with two allocations, as storedEndpoints does.
func modelEndpoints(in []StoredEndpoint) []model.Endpoint {
	if in == nil {
		return nil
	}
	ports := make([]model.EndpointPort, 0, countPorts(in, func(e *StoredEndpoint) int { return len(e.Ports) }))
	out := make([]model.Endpoint, len(in))
	for i := range in {
		e, l := &in[i], &in[i].Locality
		start := len(ports)
		for _, p := range e.Ports {
			ports = append(ports, model.EndpointPort{Name: p.Name, Port: p.Port})
		}
		out[i] = model.Endpoint{
			Address: e.Address, Hostname: readHostname(e.Hostname),
			Locality: model.Locality{Network: l.Network, Region: l.Region, Zone: l.Zone, Subzone: l.Subzone, Node: l.Node, Cluster: l.Cluster},
			Ready:    e.Ready, Serving: e.Serving, Terminating: e.Terminating, Weight: e.Weight, Labels: e.Labels,
		}
		if e.Ports != nil {
			out[i].Ports = ports[start:len(ports):len(ports)]
		}
	}
	return out
}

// readHostname is a stored hostname as the model takes it: "" unless it is a DNS-1123 label
// (a record is never refused for its hostname alone; headless names just lack that endpoint's).
func readHostname(h string) string {
	if model.ValidHostname(h) {
		return h
	}
	return ""
}

// Model is the shared gateway the record describes.
func (r *GatewayRecord) Model() model.PublishedGateway {
	return model.PublishedGateway{Cluster: r.Cluster, Namespace: r.Namespace, Serves: r.Serves}
}
