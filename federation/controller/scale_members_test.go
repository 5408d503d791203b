package controller

import (
	"fmt"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/member"
	"github.com/meshfed/meshfed/federation/model"
)

// scaleMember is one member's objects as its connection's caches hold them for the scale
// tests' services (scaleServices global Services in scaleNamespaces namespaces, each with one
// EndpointSlice of scaleEndpoints endpoints on scaleNodes Nodes), with the connection's caches
// of derived endpoints and exports. Every object goes through the caches' transform
// (member.CacheTransform), as a connection's do before storing them.
type scaleMember struct {
	site      member.Site
	objs      *member.Objects
	rv        int // the last resourceVersion given out
	transform toolscache.TransformFunc
}

// newScaleMember builds cluster cl's objects.
func newScaleMember(cl model.Cluster, c int) *scaleMember {
	m := &scaleMember{site: member.Site{Cluster: cl.Name, Network: cl.Network, Region: cl.Region}, transform: member.CacheTransform()}
	objs := &member.Objects{
		Namespaces: map[string]*corev1.Namespace{}, EndpointSlices: map[types.NamespacedName][]discoveryv1.EndpointSlice{},
		Nodes: map[string]*corev1.Node{}, Derived: &member.EndpointsCache{}, Exported: &member.ExportsCache{},
	}
	m.objs = objs
	for n := range scaleNodes {
		name := fmt.Sprintf("%s-node-%02d", cl.Name, n)
		objs.Nodes[name] = cached(m, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: m.nextRV(), Labels: map[string]string{
			wellknown.RegionLabel: cl.Region, wellknown.ZoneLabel: fmt.Sprintf("%s%c", cl.Region, 'a'+n%3),
		}}})
	}
	grpc, http := int32(9090), int32(8080)
	for s := range scaleServices {
		ns, name := scaleNamespace(s), scaleServiceName(s)
		if objs.Namespaces[ns] == nil {
			objs.Namespaces[ns] = cached(m, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, ResourceVersion: m.nextRV()}})
		}
		objs.Services = append(objs.Services, *cached(m, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, ResourceVersion: m.nextRV(),
				Labels: map[string]string{wellknown.ServiceScopeKey: "global"}},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Ports: []corev1.ServicePort{
				{Name: "grpc", Port: 9090, Protocol: corev1.ProtocolTCP, AppProtocol: ptrTo("grpc")},
				{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, AppProtocol: ptrTo("http")},
			}},
		}))
		slice := discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name + "-0", UID: types.UID(cl.Name + "/" + name), ResourceVersion: m.nextRV()},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptrTo("grpc"), Port: &grpc}, {Name: ptrTo("http"), Port: &http}},
		}
		for i := range scaleEndpoints {
			e := s*scaleEndpoints + i
			slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
				Addresses:  []string{fmt.Sprintf("10.%d.%d.%d", 100+c, e/250, e%250+1)},
				Conditions: discoveryv1.EndpointConditions{Ready: ptrTo(true)},
				NodeName:   ptrTo(fmt.Sprintf("%s-node-%02d", cl.Name, (s+i)%scaleNodes)),
			})
		}
		objs.EndpointSlices[types.NamespacedName{Namespace: ns, Name: name}] = []discoveryv1.EndpointSlice{*cached(m, &slice)}
	}
	return m
}

func (m *scaleMember) nextRV() string {
	m.rv++
	return strconv.Itoa(m.rv)
}

// flip replaces the EndpointSlice of service s by a new version in which endpoint i's
// readiness is flipped, as an informer's cache hands over a changed slice.
func (m *scaleMember) flip(s, i int) {
	key := types.NamespacedName{Namespace: scaleNamespace(s), Name: scaleServiceName(s)}
	slice := m.objs.EndpointSlices[key][0]
	slice.Endpoints = append([]discoveryv1.Endpoint(nil), slice.Endpoints...)
	ready := !*slice.Endpoints[i].Conditions.Ready
	slice.Endpoints[i].Conditions.Ready = &ready
	slice.ResourceVersion = m.nextRV()
	m.objs.EndpointSlices[key] = []discoveryv1.EndpointSlice{*cached(m, &slice)}
}

// cached is obj as m's caches store it: through their transform.
func cached[T any](m *scaleMember, obj *T) *T {
	out, err := m.transform(obj)
	if err != nil {
		panic(fmt.Sprintf("cache transform of %T: %v", obj, err))
	}
	return out.(*T)
}

func ptrTo[T any](v T) *T { return &v }

// scaleGather gathers the scale members' exports as the hub's gather does (members_derived.go,
// exports_buffer.go): a member whose objects changed since its last derivation (its
// resourceVersions standing for its caches' events count) is derived again, the others' are
// taken as they were and named in the merge's Same.
type scaleGather struct {
	members []*scaleMember
	derived derivedMembers
	buffer  exportsBuffer
}

// exports gathers one pass's exports and the members whose exports are the same.
func (g *scaleGather) exports(t *testing.T) ([]model.ClusterExport, map[string]bool) {
	t.Helper()
	p := &pass{}
	p.fill, p.exports = g.buffer.fill()
	for _, m := range g.members {
		from := derivedFrom{events: uint64(m.rv), site: m.site}
		if d := g.derived.reusable(from); d != nil {
			p.addDerived(d, d.exports, true)
			continue
		}
		d, exps := deriveMember(from, m.objs)
		if len(d.problems) > 0 {
			t.Fatalf("%s: %v", m.site.Cluster, d.problems[0])
		}
		p.addDerived(d, exps, false)
	}
	p.fill.done(p.exports)
	g.derived = p.derived
	return p.exports, p.same
}
