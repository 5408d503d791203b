package model

import "time"

// ServiceType is the MCS type of an exported service.
type ServiceType string

// The MCS service types.
const (
	ServiceTypeClusterSetIP ServiceType = "ClusterSetIP"
	ServiceTypeHeadless     ServiceType = "Headless"
)

// Port is a service port as a Service declares it.
type Port struct {
	Name        string `json:"name,omitempty"`
	Port        int32  `json:"port"`
	Protocol    string `json:"protocol"`
	AppProtocol string `json:"appProtocol,omitempty"`
}

// Cluster is a member cluster as the merge sees it.
type Cluster struct {
	Name    string `json:"name"`
	Segment string `json:"segment"`
	Network string `json:"network"`
	Region  string `json:"region,omitempty"`
}

// Segment groups clusters under one DNS domain.
type Segment struct {
	Name   string `json:"name"`
	Domain string `json:"domain"`
}

// ClusterExport is one cluster's export of one Service: what the hub read from that cluster,
// already validated. Invalid exports never become a ClusterExport.
type ClusterExport struct {
	Cluster   string `json:"cluster"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Scope is this cluster's own scope for its endpoints.
	Scope Scope `json:"scope"`
	// Takeover asks that the plain cluster.local name reach the global service.
	Takeover bool `json:"takeover,omitempty"`
	// Created is when the export began (the Service or ServiceExport creation time); the
	// oldest export's properties win conflicts.
	Created      time.Time    `json:"created"`
	Type         ServiceType  `json:"type"`
	Ports        []Port       `json:"ports"`
	Distribution Distribution `json:"distribution"`
	// DistributionSet reports whether the cluster asked for a distribution explicitly; an
	// unset distribution never conflicts with another cluster's.
	DistributionSet bool `json:"distributionSet,omitempty"`
	// Outlier is the cluster's outlier-detection policy, nil when it sets none.
	Outlier   *OutlierPolicy `json:"outlier,omitempty"`
	Endpoints []Endpoint     `json:"endpoints,omitempty"`
}

// ConflictReason is an MCS conflict reason.
type ConflictReason string

// The conflict reasons the merge reports.
const (
	ReasonPortConflict                ConflictReason = "PortConflict"
	ReasonTypeConflict                ConflictReason = "TypeConflict"
	ReasonTrafficDistributionConflict ConflictReason = "TrafficDistributionConflict"
)

// Conflict is a disagreement between exports, resolved by a documented rule and reported.
type Conflict struct {
	Reason   ConflictReason `json:"reason"`
	Message  string         `json:"message"`
	Clusters []string       `json:"clusters"`
}

// Exporter is one cluster that exports a global service, with its own scope.
type Exporter struct {
	Cluster   string `json:"cluster"`
	Scope     Scope  `json:"scope"`
	Endpoints int    `json:"endpoints"`
	Ready     int    `json:"ready"`
}

// Import is one cluster that imports a global service and the exporting clusters whose
// endpoints are addressable from it.
type Import struct {
	Cluster string   `json:"cluster"`
	From    []string `json:"from"`
}

// GlobalService is the merge of every export of <namespace>/<name> in the clusters of segments
// sharing one domain.
type GlobalService struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Domain    string `json:"domain"`
	Hostname  string `json:"hostname"`
	// Scope is the widest scope of any export, for display; each export keeps its own.
	Scope        Scope        `json:"scope"`
	Takeover     bool         `json:"takeover,omitempty"`
	Type         ServiceType  `json:"type"`
	Ports        []Port       `json:"ports"`
	Distribution Distribution `json:"distribution"`
	// Outlier is the outlier-detection policy of the oldest export that sets one.
	Outlier   *OutlierPolicy `json:"outlier,omitempty"`
	Exporters []Exporter     `json:"exporters"`
	Imports   []Import       `json:"imports"`
	Conflicts []Conflict     `json:"conflicts,omitempty"`
}
