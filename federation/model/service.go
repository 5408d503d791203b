package model

import (
	"slices"
	"time"
)

// ServiceType is the MCS type of an exported service.
type ServiceType string

// The MCS service types.
const (
	ServiceTypeClusterSetIP ServiceType = "ClusterSetIP"
	ServiceTypeHeadless     ServiceType = "Headless"
)

// Port is a service port as a Service declares it.
type Port struct {
	Name        string
	Port        int32
	Protocol    string
	AppProtocol string
}

// Cluster is a member cluster as the merge sees it.
type Cluster struct {
	Name    string
	Segment string
	Network string
	Region  string
}

// Segment groups clusters under one DNS domain.
type Segment struct {
	Name   string
	Domain string
}

// ClusterExport is one cluster's export of one Service: what the hub read from that cluster,
// already validated. Invalid exports never become a ClusterExport.
type ClusterExport struct {
	Cluster   string
	Namespace string
	Name      string
	// Scope is this cluster's own scope for its endpoints.
	Scope Scope
	// Takeover asks that the plain cluster.local name reach the global service.
	Takeover bool
	// Created is when the export began (the Service or ServiceExport creation time); the
	// oldest export's properties win conflicts.
	Created      time.Time
	Type         ServiceType
	Ports        []Port
	Distribution Distribution
	// DistributionSet reports whether the cluster asked for a distribution explicitly; an
	// unset distribution never conflicts with another cluster's.
	DistributionSet bool
	// Outlier is the cluster's outlier-detection policy, nil when it sets none.
	Outlier *OutlierPolicy
	// Load is the cluster's load policy (overprovisioning factor, panic threshold), nil when
	// it sets none.
	Load *LoadPolicy
	// Properties are the Service's fields that an MCS ServiceImport repeats.
	Properties ServiceProperties
	Endpoints  []Endpoint
	// EndpointsPatch, when not nil, says how Endpoints were made from the endpoints of an
	// earlier export of the same Service (see EndpointsPatch), so that the merge copies only
	// what changed. Endpoints are then sorted by address with one endpoint per address.
	EndpointsPatch *EndpointsPatch
}

// ConflictReason is an MCS conflict reason.
type ConflictReason string

// The conflict reasons the merge reports.
const (
	ReasonPortConflict                ConflictReason = "PortConflict"
	ReasonTypeConflict                ConflictReason = "TypeConflict"
	ReasonTrafficDistributionConflict ConflictReason = "TrafficDistributionConflict"
	// ReasonLoadPolicyConflict: exports set different load policies; the oldest wins.
	ReasonLoadPolicyConflict ConflictReason = "LoadPolicyConflict"
	// ReasonSessionAffinityConflict: exports set different spec.sessionAffinity values.
	ReasonSessionAffinityConflict ConflictReason = "SessionAffinityConflict"
	// ReasonSessionAffinityConfigConflict: exports with ClientIP affinity set different
	// timeouts.
	ReasonSessionAffinityConfigConflict ConflictReason = "SessionAffinityConfigConflict"
	// ReasonInternalTrafficPolicyConflict: exports set different spec.internalTrafficPolicy
	// values.
	ReasonInternalTrafficPolicyConflict ConflictReason = "InternalTrafficPolicyConflict"
)

// Conflict is a disagreement between exports, resolved by a documented rule and reported.
type Conflict struct {
	Reason   ConflictReason
	Message  string
	Clusters []string
}

// Exporter is one cluster that exports a global service, with its own scope.
type Exporter struct {
	Cluster   string
	Scope     Scope
	Endpoints int
	Ready     int
}

// Import is one cluster that imports a global service and the exporting clusters whose
// endpoints are addressable from it.
type Import struct {
	Cluster string
	From    []string
}

// SameFromNearby returns the From list, among the lists of the few imports before the i-th
// (from(j) is the j-th's), that lists the same clusters as l; nil when none does. Most
// importers of a service import it from the same clusters, in runs (one list per segment,
// network or scope that limits them): a service's imports that share equal lists hold about
// as many names as its exporters, not clusters × exporters (100,000 per service at 100
// clusters that all export it). From lists are never modified in place, so sharing is safe.
func SameFromNearby(i int, l []string, from func(j int) []string) []string {
	for j := i - 1; j >= max(0, i-sameFromWindow); j-- {
		if f := from(j); slices.Equal(f, l) {
			return f
		}
	}
	return nil
}

// sameFromWindow is how many imports before one SameFromNearby looks at.
const sameFromWindow = 4

// GlobalService is the merge of every export of <namespace>/<name> in the clusters of segments
// sharing one domain.
type GlobalService struct {
	Namespace string
	Name      string
	Domain    string
	Hostname  string
	// Scope is the widest scope of any export, for display; each export keeps its own.
	Scope        Scope
	Takeover     bool
	Type         ServiceType
	Ports        []Port
	Distribution Distribution
	// Outlier is the outlier-detection policy of the oldest export that sets one.
	Outlier *OutlierPolicy
	// Load is the load policy of the oldest export that sets one, nil for the defaults.
	Load *LoadPolicy
	// Properties are the ServiceImport fields merged from the exports (see ServiceProperties).
	Properties ServiceProperties
	Exporters  []Exporter
	Imports    []Import
	Conflicts  []Conflict
}
