package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupName is the API group of every meshfed resource.
const GroupName = "meshfed.io"

// GroupVersion is the group and version of this package's resources.
var GroupVersion = schema.GroupVersion{Group: GroupName, Version: "v1alpha1"}

var (
	// SchemeBuilder registers this package's types with a scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)
	// AddToScheme adds this package's types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(GroupVersion,
		&MemberCluster{}, &MemberClusterList{},
		&Segment{}, &SegmentList{},
		&GlobalService{}, &GlobalServiceList{},
	)
	metav1.AddToGroupVersion(scheme, GroupVersion)
	return nil
}
