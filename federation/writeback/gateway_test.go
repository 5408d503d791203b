package writeback

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"

	"github.com/meshfed/meshfed/apis/wellknown"
)

func TestDerivedServiceOfGatewayNamespaceSelectsNothing(t *testing.T) {
	g := testGlobal()
	own := desiredDerivedService(g, testPorts(g, 20000, 20001, 20002), "")
	shared := desiredDerivedService(g, testPorts(g, 20000, 20001, 20002), "meshfed-system")
	if !equality.Semantic.DeepEqual(own.Spec.Selector, wellknown.WaypointSelector()) {
		t.Fatalf("own waypoint: selector %v, want %v", own.Spec.Selector, wellknown.WaypointSelector())
	}
	if shared.Spec.Selector != nil {
		t.Fatalf("shared gateway: selector %v, want none (the hub writes the slices)", shared.Spec.Selector)
	}
	if !equality.Semantic.DeepEqual(own.Spec.Ports, shared.Spec.Ports) {
		t.Fatalf("ports differ: own %v, shared %v", own.Spec.Ports, shared.Spec.Ports)
	}
	if derivedSpecEqual(own, shared) {
		t.Fatal("derivedSpecEqual: a selector and none compare equal; switching modes would not update the Service")
	}
}

func TestWaypointOf(t *testing.T) {
	if got, want := waypointOf("shop", ""), (types.NamespacedName{Namespace: "shop", Name: wellknown.WaypointName}); got != want {
		t.Fatalf("own waypoint = %v, want %v", got, want)
	}
	if got, want := waypointOf("shop", "meshfed-system"), (types.NamespacedName{Namespace: "meshfed-system", Name: wellknown.GatewayName}); got != want {
		t.Fatalf("gateway = %v, want %v", got, want)
	}
}

// gatewayEndpoint is a gateway pod's endpoint in the gateway Service's slice.
func gatewayEndpoint(addr string, ready bool, node string) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{
		Addresses:  []string{addr},
		Conditions: discoveryv1.EndpointConditions{Ready: new(ready), Serving: new(ready), Terminating: new(!ready)},
		NodeName:   new(node),
		TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: "meshfed-system", Name: "gw-" + node},
	}
}

func TestDesiredGatewaySlices(t *testing.T) {
	g := testGlobal()
	derived := desiredDerivedService(g, testPorts(g, 20000, 20001, 20002), "meshfed-system")
	derived.UID = "derived-uid"
	gateway := []discoveryv1.EndpointSlice{
		{AddressType: discoveryv1.AddressTypeIPv4, Endpoints: []discoveryv1.Endpoint{
			gatewayEndpoint("10.0.0.9", true, "gw-b"), gatewayEndpoint("10.0.0.3", false, "gw-a"),
		}},
		// The same pod again in a second slice (slices overlap while the controller moves
		// endpoints), one IPv6 endpoint, and an FQDN slice, which cannot be copied.
		{AddressType: discoveryv1.AddressTypeIPv4, Endpoints: []discoveryv1.Endpoint{gatewayEndpoint("10.0.0.9", true, "gw-b"), {}}},
		{AddressType: discoveryv1.AddressTypeIPv6, Endpoints: []discoveryv1.Endpoint{gatewayEndpoint("fd00::9", true, "gw-b")}},
		{AddressType: discoveryv1.AddressTypeFQDN, Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"gw.example.com"}}}},
	}
	got := desiredGatewaySlices(g, derived, gateway)
	if len(got) != 2 {
		t.Fatalf("got %d slices, want one IPv4 and one IPv6", len(got))
	}
	v4, v6 := got[0], got[1]
	if v4.Name != "web-global-ipv4" || v6.Name != "web-global-ipv6" || v4.Namespace != "shop" {
		t.Fatalf("names %s/%s and %s, want shop/web-global-ipv4 and web-global-ipv6", v4.Namespace, v4.Name, v6.Name)
	}
	if v4.Labels[discoveryv1.LabelServiceName] != "web-global" || v4.Labels[discoveryv1.LabelManagedBy] != wellknown.EndpointSliceManagedByValue || !writtenBack(v4) {
		t.Fatalf("labels %v: want the derived Service's name, the hub as manager and the write-back labels", v4.Labels)
	}
	if len(v4.OwnerReferences) != 1 || v4.OwnerReferences[0].Kind != "Service" || v4.OwnerReferences[0].UID != "derived-uid" {
		t.Fatalf("owner %v, want the derived Service", v4.OwnerReferences)
	}
	var addrs []string
	for _, ep := range v4.Endpoints {
		addrs = append(addrs, ep.Addresses[0])
	}
	if want := []string{"10.0.0.3", "10.0.0.9"}; !equality.Semantic.DeepEqual(addrs, want) {
		t.Fatalf("IPv4 endpoints %v, want %v (each pod once, sorted)", addrs, want)
	}
	if want := gatewayEndpoint("10.0.0.3", false, "gw-a"); !endpointEqual(&v4.Endpoints[0], &want) {
		t.Fatalf("endpoint %+v, want the gateway's conditions, node and pod kept: %+v", v4.Endpoints[0], want)
	}
	if len(v4.Ports) != 3 {
		t.Fatalf("ports %v, want one per derived port", v4.Ports)
	}
	for i, p := range derived.Spec.Ports {
		ep := v4.Ports[i]
		if *ep.Name != p.Name || *ep.Protocol != p.Protocol || *ep.Port != p.TargetPort.IntVal || !equality.Semantic.DeepEqual(ep.AppProtocol, p.AppProtocol) {
			t.Fatalf("port %d = %+v, want name %s, protocol %s, the waypoint port %d", i, ep, p.Name, p.Protocol, p.TargetPort.IntVal)
		}
	}
	// The gateway's own slices must not be changed by the copy.
	*v4.Endpoints[0].Conditions.Ready = true
	if *gateway[0].Endpoints[1].Conditions.Ready {
		t.Fatal("the desired slice shares its conditions with the gateway's slice")
	}
	if got := desiredGatewaySlices(g, derived, nil); len(got) != 0 {
		t.Fatalf("a gateway without endpoints gave %d slices, want none", len(got))
	}
}
