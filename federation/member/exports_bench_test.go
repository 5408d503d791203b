package member

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/meshfed/meshfed/apis/wellknown"
)

// thousandServices are one member's objects at the hub's scale test: 1,000 global Services in
// 20 namespaces, each with one slice of 10 endpoints on 20 Nodes.
func thousandServices() *Objects {
	objs := &Objects{
		Namespaces: map[string]*corev1.Namespace{}, EndpointSlices: map[types.NamespacedName][]discoveryv1.EndpointSlice{},
		Nodes: map[string]*corev1.Node{}, Derived: &EndpointsCache{},
	}
	for i := range 20 {
		name := fmt.Sprintf("node-%02d", i)
		objs.Nodes[name] = &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			wellknown.RegionLabel: "eu-west-1", wellknown.ZoneLabel: "eu-west-1" + string(rune('a'+i%3)),
		}}}
	}
	port, pname := int32(8080), "http"
	for s := range 1000 {
		ns := fmt.Sprintf("ns-%02d", s%20)
		objs.Namespaces[ns] = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, ResourceVersion: "1"}}
		name := fmt.Sprintf("svc-%04d", s)
		objs.Services = append(objs.Services, corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, ResourceVersion: "1",
				Labels: map[string]string{wellknown.ServiceScopeKey: "global"}},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}}},
		})
		slice := discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name + "-abc", UID: types.UID(name), ResourceVersion: "1"},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: &pname, Port: &port}},
		}
		for i := range 10 {
			slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
				Addresses:  []string{fmt.Sprintf("10.%d.%d.%d", 100+s/250, s%250, i+1)},
				Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)},
				NodeName:   ptr(fmt.Sprintf("node-%02d", (s+i)%20)),
			})
		}
		objs.EndpointSlices[types.NamespacedName{Namespace: ns, Name: name}] = []discoveryv1.EndpointSlice{slice}
	}
	return objs
}

// BenchmarkExportsThousand: one member's exports at the hub's scale test (1,000 Services of
// 10 endpoints), as a pass derives them when none of its objects changed since the pass
// before: the hub runs this for every member in every pass.
func BenchmarkExportsThousand(b *testing.B) {
	site := Site{Cluster: "east-1", Network: "net-a", Region: "eu-west-1"}
	objs := thousandServices()
	objs.Exported = &ExportsCache{}
	Exports(site, objs)
	b.ReportAllocs()
	for b.Loop() {
		if exps, _ := Exports(site, objs); len(exps) != 1000 {
			b.Fatalf("%d exports, want 1000", len(exps))
		}
	}
}
