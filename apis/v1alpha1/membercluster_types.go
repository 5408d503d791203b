package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MemberCluster is a Kubernetes cluster joined to the hub. The hub connects to it with the
// kubeconfig in the referenced Secret, reads the Services it exports, and writes imports back.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=mc,categories=meshfed
// +kubebuilder:subresource:status
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 63 && self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="name must be a DNS-1123 label (at most 63 lowercase alphanumerics or '-')"
// +kubebuilder:printcolumn:name="Network",type=string,JSONPath=`.spec.network`
// +kubebuilder:printcolumn:name="Segment",type=string,JSONPath=`.spec.segment`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Exported",type=integer,JSONPath=`.status.exportedServices`
// +kubebuilder:printcolumn:name="Imported",type=integer,JSONPath=`.status.importedServices`
// +kubebuilder:printcolumn:name="Last Sync",type=date,JSONPath=`.status.lastSyncTime`
// +kubebuilder:printcolumn:name="Cluster ID",type=string,JSONPath=`.status.clusterID`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type MemberCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec says how to reach the cluster and where it sits in the federation.
	// +required
	Spec MemberClusterSpec `json:"spec"`
	// Status is what the hub observed of the cluster.
	// +optional
	Status MemberClusterStatus `json:"status,omitempty"`
}

// MemberClusterSpec says how to reach a member cluster and where it sits in the federation.
type MemberClusterSpec struct {
	// Network names the network the cluster's pods are on. Endpoints on the same network are
	// reached directly; others through HBONE. A Namespace label topology.istio.io/network
	// overrides it for that namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Network string `json:"network"`

	// Region is used for endpoints on Nodes without a topology.kubernetes.io/region label.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Region string `json:"region,omitempty"`

	// Segment names the Segment the cluster belongs to; a cluster is in exactly one.
	// +optional
	// +kubebuilder:default=default
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Segment string `json:"segment,omitempty"`

	// KubeconfigSecretRef names the Secret, in the hub's namespace, whose data holds a
	// kubeconfig for the cluster. Only bearer-token or inline client-certificate credentials
	// are accepted: exec plugins, auth providers and file paths are refused.
	// +required
	KubeconfigSecretRef SecretKeyRef `json:"kubeconfigSecretRef"`
}

// SecretKeyRef names a key of a Secret in the hub's own namespace.
type SecretKeyRef struct {
	// Name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// Key in the Secret's data.
	// +optional
	// +kubebuilder:default=kubeconfig
	Key string `json:"key,omitempty"`
}

// MemberClusterStatus is what the hub observed of a member cluster.
type MemberClusterStatus struct {
	// Conditions are Ready and Synced (see the MemberClusterCondition constants).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// LastSyncTime is when a pass of the hub last merged this cluster's current state; it is
	// refreshed at least every probe interval while the cluster stays synced.
	// +optional
	LastSyncTime *metav1.Time `json:"lastSyncTime,omitempty"`
	// ExportedServices counts the global services this cluster exports to.
	// +optional
	ExportedServices int32 `json:"exportedServices,omitempty"`
	// ImportedServices counts the global services whose import the hub wrote into this cluster
	// (its ServiceImport, or its derived Service where the cluster serves no MCS API).
	// +optional
	ImportedServices int32 `json:"importedServices,omitempty"`
	// ClusterID is the cluster's identity: the UID of its kube-system namespace, the value the
	// MCS ClusterProperty cluster.clusterset.k8s.io carries. The hub federates one cluster once:
	// a second MemberCluster with the same ID is not federated (Ready False, DuplicateCluster).
	// +optional
	ClusterID string `json:"clusterID,omitempty"`
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// MemberClusterList is a list of MemberClusters.
//
// +kubebuilder:object:root=true
type MemberClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MemberCluster `json:"items"`
}
