// Package v1alpha1 holds the meshfed.io/v1alpha1 API: the hub's MemberCluster, Segment and
// GlobalService resources and the condition types and reasons the hub reports. The labels and
// annotations users put on member clusters live in apis/wellknown.
//
// It imports only apimachinery, k8s.io/api and mcs-api so that any client can depend on it.
//
// +kubebuilder:object:generate=true
// +groupName=meshfed.io
package v1alpha1
