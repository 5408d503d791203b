package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ServiceScope is where a cluster's endpoints of a service are addressable (DESIGN §3.2).
//
// +kubebuilder:validation:Enum=cluster;segment;global;global-only
type ServiceScope string

// The service scopes.
const (
	ServiceScopeCluster    ServiceScope = "cluster"
	ServiceScopeSegment    ServiceScope = "segment"
	ServiceScopeGlobal     ServiceScope = "global"
	ServiceScopeGlobalOnly ServiceScope = "global-only"
)

// TrafficDistribution is a traffic-distribution mode (DESIGN §3.3).
//
// +kubebuilder:validation:Enum=Any;PreferNetwork;PreferCluster;PreferRegion;PreferClose;PreferSameNode;FailoverPriority
type TrafficDistribution string

// GlobalServiceType is the MCS type of a global service.
//
// +kubebuilder:validation:Enum=ClusterSetIP;Headless
type GlobalServiceType string

// GlobalService mirrors, on the hub, one merged global service: the Services of the same
// namespace and name exported by member clusters of segments sharing a domain. The hub writes
// it; users read it with kubectl get globalservices -A.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced,shortName=gsvc,categories=meshfed
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Hostname",type=string,JSONPath=`.spec.hostname`
// +kubebuilder:printcolumn:name="Scope",type=string,JSONPath=`.spec.scope`
// +kubebuilder:printcolumn:name="Clusters",type=integer,JSONPath=`.status.clusterCount`
// +kubebuilder:printcolumn:name="Endpoints",type=integer,JSONPath=`.status.endpoints`
// +kubebuilder:printcolumn:name="Ready",type=integer,JSONPath=`.status.readyEndpoints`
// +kubebuilder:printcolumn:name="Conflict",type=string,JSONPath=`.status.conditions[?(@.type=="Conflict")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type GlobalService struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the merged service as the federation serves it.
	// +optional
	Spec GlobalServiceSpec `json:"spec,omitempty"`
	// Status is per-cluster detail, conflicts and conditions.
	// +optional
	Status GlobalServiceStatus `json:"status,omitempty"`
}

// GlobalServiceSpec is a merged global service as the federation serves it.
type GlobalServiceSpec struct {
	// ServiceName is the name shared by the exported Services.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	ServiceName string `json:"serviceName"`
	// Domain is the segment domain the service is named in.
	// +required
	// +kubebuilder:validation:MinLength=1
	Domain string `json:"domain"`
	// Hostname is <serviceName>.<namespace>.<domain>.
	// +required
	Hostname string `json:"hostname"`
	// Scope is the widest scope of any export; each cluster's own is in status.clusters.
	// +required
	Scope ServiceScope `json:"scope"`
	// Takeover reports that the plain cluster.local name should reach the global service.
	// +optional
	Takeover bool `json:"takeover,omitempty"`
	// Type is the MCS service type.
	// +optional
	Type GlobalServiceType `json:"type,omitempty"`
	// Ports is the union of the exported ports, with the waypoint port allocated for each.
	// +optional
	// +listType=atomic
	Ports []GlobalServicePort `json:"ports,omitempty"`
	// TrafficDistribution is the mode endpoints are ranked by.
	// +optional
	TrafficDistribution TrafficDistribution `json:"trafficDistribution,omitempty"`
	// FailoverPriority is the label list of the FailoverPriority mode.
	// +optional
	// +listType=atomic
	FailoverPriority []string `json:"failoverPriority,omitempty"`
}

// GlobalServicePort is one port of a global service.
type GlobalServicePort struct {
	// Name of the port, as the Services name it.
	// +optional
	Name string `json:"name,omitempty"`
	// Port is the service port number.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port"`
	// Protocol is TCP, UDP or SCTP.
	// +optional
	// +kubebuilder:default=TCP
	Protocol corev1.Protocol `json:"protocol,omitempty"`
	// AppProtocol selects L7 handling (http, h2c, grpc); empty is plain TCP.
	// +optional
	AppProtocol string `json:"appProtocol,omitempty"`
	// WaypointPort is the waypoint listener port the hub allocated for this port.
	// +optional
	WaypointPort int32 `json:"waypointPort,omitempty"`
}

// GlobalServiceStatus is per-cluster detail of a global service.
type GlobalServiceStatus struct {
	// Clusters lists the exporting clusters with their scope and endpoint counts.
	// +optional
	// +listType=map
	// +listMapKey=name
	Clusters []ClusterExportStatus `json:"clusters,omitempty"`
	// ClusterCount is len(Clusters), for printing.
	// +optional
	ClusterCount int32 `json:"clusterCount,omitempty"`
	// Endpoints counts all endpoints across clusters.
	// +optional
	Endpoints int32 `json:"endpoints,omitempty"`
	// ReadyEndpoints counts the ready ones.
	// +optional
	ReadyEndpoints int32 `json:"readyEndpoints,omitempty"`
	// ImportedBy lists the clusters where the hub's last pass found the service's import
	// written (its ServiceImport, or its derived Service where the cluster serves no MCS API),
	// sorted. Members the hub could not write to in that pass are not listed.
	// +optional
	// +listType=set
	ImportedBy []string `json:"importedBy,omitempty"`
	// TakeoverActiveIn lists the members where the service's cluster-local name
	// (<name>.<namespace>.svc.cluster.local) reaches the global service, sorted.
	// +optional
	// +listType=set
	TakeoverActiveIn []string `json:"takeoverActiveIn,omitempty"`
	// Conflicts lists disagreements between exports and how they were resolved.
	// +optional
	// +listType=atomic
	Conflicts []ServiceConflict `json:"conflicts,omitempty"`
	// Conditions are Conflict, Valid, WaypointReady and Takeover (GlobalServiceCondition*).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ClusterExportStatus is one cluster's export of a global service.
type ClusterExportStatus struct {
	// Name of the member cluster.
	Name string `json:"name"`
	// Scope is the cluster's own scope for its endpoints.
	Scope ServiceScope `json:"scope"`
	// Endpoints counts the cluster's endpoints.
	Endpoints int32 `json:"endpoints"`
	// ReadyEndpoints counts the ready ones.
	ReadyEndpoints int32 `json:"readyEndpoints"`
	// Stale reports that the cluster is unreachable and its endpoints are kept for the grace
	// period.
	// +optional
	Stale bool `json:"stale,omitempty"`
	// WaypointMissing reports that the namespace has no waypoint in this cluster.
	// +optional
	WaypointMissing bool `json:"waypointMissing,omitempty"`
}

// ServiceConflict is a disagreement between exports, resolved by the MCS rules.
type ServiceConflict struct {
	// Reason is the MCS conflict reason.
	Reason string `json:"reason"`
	// Message names the clusters and what they disagree on.
	Message string `json:"message"`
	// Clusters lists the clusters involved, sorted.
	// +listType=set
	Clusters []string `json:"clusters"`
}

// GlobalServiceList is a list of GlobalServices.
//
// +kubebuilder:object:root=true
type GlobalServiceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GlobalService `json:"items"`
}
