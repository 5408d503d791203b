package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Segment groups member clusters under one DNS domain. Global services of a segment are named
// <name>.<namespace>.<domain>; segment-scoped services are visible only inside it.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,categories=meshfed
// +kubebuilder:subresource:status
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 63 && self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="name must be a DNS-1123 label (at most 63 lowercase alphanumerics or '-')"
// +kubebuilder:printcolumn:name="Domain",type=string,JSONPath=`.spec.domain`
// +kubebuilder:printcolumn:name="Clusters",type=integer,JSONPath=`.status.clusterCount`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Segment struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec holds the segment's domain.
	// +optional
	Spec SegmentSpec `json:"spec,omitempty"`
	// Status is what the hub observed of the segment.
	// +optional
	Status SegmentStatus `json:"status,omitempty"`
}

// SegmentSpec holds a segment's settings.
type SegmentSpec struct {
	// Domain is the DNS suffix of the segment's global service hostnames.
	// +optional
	// +kubebuilder:default=mesh.internal
	// +kubebuilder:validation:MaxLength=200
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +kubebuilder:validation:XValidation:rule="!self.endsWith('.cluster.local') && self != 'cluster.local'",message="domain must not be cluster.local or below it"
	Domain string `json:"domain,omitempty"`
}

// SegmentStatus is what the hub observed of a segment.
type SegmentStatus struct {
	// Clusters lists the member clusters in the segment, sorted.
	// +optional
	// +listType=set
	Clusters []string `json:"clusters,omitempty"`
	// ClusterCount is len(Clusters), for printing.
	// +optional
	ClusterCount int32 `json:"clusterCount,omitempty"`
	// Conditions are the segment's conditions (Accepted).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// SegmentList is a list of Segments.
//
// +kubebuilder:object:root=true
type SegmentList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Segment `json:"items"`
}
