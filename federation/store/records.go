package store

import (
	"time"

	"github.com/meshfed/meshfed/federation/model"
)

// Record is one value of the store. Each record names the object it describes, so that its key
// follows from it (Key) and a value read back can be checked against the key it was found under.
type Record interface {
	// Key is where the record is stored.
	Key() Key
	// Validate checks the record's fields, including that Key is well formed.
	Validate() error
	isRecord()
}

// ClusterRecord is a member cluster as the hub last saw it.
type ClusterRecord struct {
	Name     string    `json:"name"`
	Network  string    `json:"network"`
	Region   string    `json:"region,omitempty"`
	Segment  string    `json:"segment"`
	Ready    bool      `json:"ready"`
	LastSync time.Time `json:"lastSync,omitzero"`
}

// ServicePort is a global-service port with the waypoint listener port the hub allocated for it
// in the service's namespace (0 while none is allocated).
type ServicePort struct {
	model.Port
	WaypointPort int32 `json:"waypointPort,omitempty"`
}

// ServiceRecord is a merged global service: everything a waypoint needs besides endpoints.
type ServiceRecord struct {
	Namespace    string             `json:"namespace"`
	Name         string             `json:"name"`
	Domain       string             `json:"domain"`
	Hostname     string             `json:"hostname"`
	Scope        model.Scope        `json:"scope"`
	Takeover     bool               `json:"takeover,omitempty"`
	Type         model.ServiceType  `json:"type"`
	Ports        []ServicePort      `json:"ports"`
	Distribution model.Distribution `json:"distribution"`
	// Outlier is the service's outlier-detection policy, absent when none is set.
	Outlier   *model.OutlierPolicy `json:"outlier,omitempty"`
	Exporters []model.Exporter     `json:"exporters,omitempty"`
	Imports   []model.Import       `json:"imports,omitempty"`
	Conflicts []model.Conflict     `json:"conflicts,omitempty"`
}

// EndpointsRecord is one cluster's endpoints of one global service, with that cluster's own
// scope. Stale marks endpoints kept while the cluster is unreachable (DESIGN §4, --stale-grace).
type EndpointsRecord struct {
	Namespace string           `json:"namespace"`
	Domain    string           `json:"domain"`
	Name      string           `json:"name"`
	Cluster   string           `json:"cluster"`
	Scope     model.Scope      `json:"scope"`
	Stale     bool             `json:"stale,omitempty"`
	Endpoints []model.Endpoint `json:"endpoints"`
}

// WaypointsRecord lists the HBONE addresses (host:port) of a namespace's waypoints in one
// cluster, as callers on other networks reach them, and that cluster's network.
type WaypointsRecord struct {
	Namespace string   `json:"namespace"`
	Cluster   string   `json:"cluster"`
	Network   string   `json:"network"`
	Addresses []string `json:"addresses"`
}

// Key implements Record.
func (r *ClusterRecord) Key() Key { return ClusterKey(r.Name) }

// Key implements Record.
func (r *ServiceRecord) Key() Key { return ServiceKey(r.Namespace, r.Domain, r.Name) }

// Key implements Record.
func (r *EndpointsRecord) Key() Key {
	return EndpointsKey(r.Namespace, r.Domain, r.Name, r.Cluster)
}

// Key implements Record.
func (r *WaypointsRecord) Key() Key { return WaypointsKey(r.Namespace, r.Cluster) }

func (*ClusterRecord) isRecord()   {}
func (*ServiceRecord) isRecord()   {}
func (*EndpointsRecord) isRecord() {}
func (*WaypointsRecord) isRecord() {}
