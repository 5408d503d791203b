package member

import (
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// CacheTransform returns the transform a connection's caches apply to every object they store,
// before it is stored; the scale benchmark applies it to the objects it stands in for the
// caches with. The caches hold every Service, EndpointSlice and Node of the member, so each
// keeps only what the hub reads:
//   - no object keeps its managedFields: nothing the hub does reads who last wrote which field,
//     and an update without managedFields keeps the server's;
//   - a Node keeps its name, UID, resourceVersion and labels: the hub reads only its locality
//     labels (a Node's status, its images and conditions, is most of it, and changes often);
//   - an EndpointSlice keeps every field (the hub writes slices back, see federation/writeback,
//     and compares the ones it wrote whole) but holds its endpoints in a list no longer than
//     they are (a decoded list is grown by appending, to up to twice their number), and the
//     node and zone names of its endpoints, the same few names for the whole member, are
//     shared with the member's other slices instead of each endpoint holding its own copy.
//
// Every step keeps the object as the hub reads it, and the transform of a transformed object
// changes nothing. Safe for concurrent use.
func CacheTransform() toolscache.TransformFunc {
	strip := cache.TransformStripManagedFields()
	names := &sharedNames{}
	return func(in any) (any, error) {
		out, err := strip(in)
		if err != nil {
			return out, err
		}
		switch o := out.(type) {
		case *corev1.Node:
			*o = corev1.Node{TypeMeta: o.TypeMeta, ObjectMeta: metav1.ObjectMeta{
				Name: o.Name, UID: o.UID, ResourceVersion: o.ResourceVersion, Labels: o.Labels,
			}}
		case *discoveryv1.EndpointSlice:
			compactSlice(o, names)
		}
		return out, nil
	}
}

// compactSlice clips s's endpoints (and ports) to their length, and points every endpoint's
// node and zone name at the member's shared copy of that name.
func compactSlice(s *discoveryv1.EndpointSlice, names *sharedNames) {
	if cap(s.Endpoints) > len(s.Endpoints) {
		s.Endpoints = slices.Clone(s.Endpoints)
	}
	if cap(s.Ports) > len(s.Ports) {
		s.Ports = slices.Clone(s.Ports)
	}
	names.mu.Lock()
	defer names.mu.Unlock()
	for i := range s.Endpoints {
		e := &s.Endpoints[i]
		e.NodeName = names.share(e.NodeName)
		e.Zone = names.share(e.Zone)
	}
}

// maxSharedNames bounds the names a sharedNames holds: past it, it starts again empty (the
// names already shared stay shared), so that the Nodes of a member that replaces them over
// time (new names) do not pile up.
const maxSharedNames = 1 << 14

// sharedNames holds one pointer per node or zone name, for the slices of one member.
type sharedNames struct {
	mu sync.Mutex
	m  map[string]*string
}

// share returns the shared pointer to *p's name (p itself the first time); nil stays nil. The
// caller holds mu.
func (n *sharedNames) share(p *string) *string {
	if p == nil {
		return nil
	}
	if s, ok := n.m[*p]; ok {
		return s
	}
	if n.m == nil || len(n.m) >= maxSharedNames {
		n.m = make(map[string]*string)
	}
	n.m[*p] = p
	return p
}
