package writeback

import (
	"maps"
	"slices"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
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
		ptrEqual(a.Conditions.Ready, b.Conditions.Ready) && ptrEqual(a.Conditions.Serving, b.Conditions.Serving) &&
		ptrEqual(a.Conditions.Terminating, b.Conditions.Terminating) &&
		ptrEqual(a.Hostname, b.Hostname) && ptrEqual(a.TargetRef, b.TargetRef) &&
		maps.Equal(a.DeprecatedTopology, b.DeprecatedTopology) && ptrEqual(a.NodeName, b.NodeName) &&
		ptrEqual(a.Zone, b.Zone) &&
		// The hub never sets hints; when a slice has them, the reflective comparison decides.
		(a.Hints == nil && b.Hints == nil || equality.Semantic.DeepEqual(a.Hints, b.Hints))
}

// ptrEqual reports whether a and b are both nil or point to equal values.
func ptrEqual[T comparable](a, b *T) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}
