package writeback

import (
	"maps"
	"slices"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/utils/ptr"
)

// endpointsEqual is equality.Semantic.DeepEqual(a, b) for the endpoints of EndpointSlices,
// written out field by field: a pass compares every endpoint of a changed service's slices (a
// 50,000-endpoint service's, each time one of them changes), and the reflective comparison cost
// the hub about as much as building the slices. Like it, it treats nil and empty slices and maps
// as equal.
func endpointsEqual(a, b []discoveryv1.Endpoint) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !endpointEqual(&a[i], &b[i]) {
			return false
		}
	}
	return true
}

func endpointEqual(a, b *discoveryv1.Endpoint) bool {
	return slices.Equal(a.Addresses, b.Addresses) &&
		ptr.Equal(a.Conditions.Ready, b.Conditions.Ready) && ptr.Equal(a.Conditions.Serving, b.Conditions.Serving) &&
		ptr.Equal(a.Conditions.Terminating, b.Conditions.Terminating) &&
		ptr.Equal(a.Hostname, b.Hostname) && ptr.Equal(a.TargetRef, b.TargetRef) &&
		maps.Equal(a.DeprecatedTopology, b.DeprecatedTopology) && ptr.Equal(a.NodeName, b.NodeName) &&
		ptr.Equal(a.Zone, b.Zone) &&
		// The hub never sets hints; when a slice has them, the reflective comparison decides.
		(a.Hints == nil && b.Hints == nil || equality.Semantic.DeepEqual(a.Hints, b.Hints))
}
