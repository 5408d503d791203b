package app

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
)

// gatewaySliceOf is the gateway Service's own slice, as Kubernetes' EndpointSlice controller
// would write it for the gateway's pods (address → ready).
func gatewaySliceOf(ready map[string]bool) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name: "meshfed-gateway-abcde", Namespace: wellknown.SystemNamespace,
			Labels: map[string]string{discoveryv1.LabelServiceName: wellknown.GatewayName},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: new("hbone"), Port: new(int32(wellknown.HBONEPort))}},
	}
	for _, addr := range slices.Sorted(func(yield func(string) bool) {
		for a := range ready {
			if !yield(a) {
				return
			}
		}
	}) {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{addr},
			Conditions: discoveryv1.EndpointConditions{Ready: new(ready[addr]), Serving: new(ready[addr]), Terminating: new(false)},
			NodeName:   new("gw-node"),
		})
	}
	return s
}

// derivedSlicesIn describes the hub's slices of ns/<name>-global in c: "address=ready" per
// endpoint, and the ports, sorted; "" when there are none.
func derivedSlicesIn(t *testing.T, c client.Client, ns, name string) string {
	t.Helper()
	var list discoveryv1.EndpointSliceList
	if err := c.List(t.Context(), &list, client.InNamespace(ns), client.MatchingLabels{discoveryv1.LabelServiceName: wellknown.DerivedServiceName(name)}); err != nil {
		return err.Error()
	}
	var out []string
	for _, s := range list.Items {
		for _, ep := range s.Endpoints {
			out = append(out, fmt.Sprintf("%s=%v", ep.Addresses[0], *ep.Conditions.Ready))
		}
		for _, p := range s.Ports {
			out = append(out, fmt.Sprintf("port %s:%d", *p.Name, *p.Port))
		}
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// TestHubPointsDerivedServicesAtSharedGateway: in west-1 a shared gateway in meshfed-system
// serves shop. The derived Service of shop/web there selects nothing, and the hub writes its
// slices from the gateway's pods, with the waypoint port the store allocated for web; a gateway
// pod turning ready is copied; once shop gets a waypoint of its own, the derived Service
// selects it again and the hub's slices are deleted.
func TestHubPointsDerivedServicesAtSharedGateway(t *testing.T) {
	env := startHub(t, "east-1", "west-1")
	east, west := env.members["east-1"].Client, env.members["west-1"].Client
	ctx := t.Context()
	for _, ns := range []string{"shop", wellknown.SystemNamespace} {
		if err := west.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	gw := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name: wellknown.GatewayName, Namespace: wellknown.SystemNamespace,
			Annotations: map[string]string{wellknown.GatewayNamespacesKey: "shop", wellknown.HBONEAddressKey: "192.0.2.40:15008"},
		},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{wellknown.WaypointPodLabel: wellknown.GatewayName},
			Ports:    []corev1.ServicePort{{Name: "hbone", Port: wellknown.HBONEPort, TargetPort: intstr.FromInt32(wellknown.HBONEPort)}},
		},
	}
	if err := west.Create(ctx, gw); err != nil {
		t.Fatal(err)
	}
	slice := gatewaySliceOf(map[string]bool{"10.9.0.1": true, "10.9.0.2": false})
	if err := west.Create(ctx, slice); err != nil {
		t.Fatal(err)
	}
	export(t, east, "shop", "web", "global", "10.244.1.5")

	var port int32
	eventually(t, "the waypoint port of shop/web", func() (bool, string) {
		rec, ok := env.service(t, "shop", "web")
		if !ok || len(rec.Ports) != 1 {
			return false, fmt.Sprintf("%+v", rec)
		}
		port = rec.Ports[0].WaypointPort
		return port != 0, ""
	})
	var derived corev1.Service
	eventually(t, "a selectorless derived Service in west-1", func() (bool, string) {
		err := west.Get(ctx, client.ObjectKey{Namespace: "shop", Name: wellknown.DerivedServiceName("web")}, &derived)
		return err == nil && derived.Spec.Selector == nil, fmt.Sprintf("%v selector %v", err, derived.Spec.Selector)
	})
	want := fmt.Sprintf("10.9.0.1=true 10.9.0.2=false port http:%d", port)
	eventually(t, "the gateway's pods as the derived Service's endpoints", func() (bool, string) {
		got := derivedSlicesIn(t, west, "shop", "web")
		return got == want, got + " want " + want
	})

	// A gateway pod becomes ready: the hub copies it at its next pass.
	if err := west.Get(ctx, client.ObjectKeyFromObject(slice), slice); err != nil {
		t.Fatal(err)
	}
	slice.Endpoints = gatewaySliceOf(map[string]bool{"10.9.0.1": true, "10.9.0.2": true}).Endpoints
	if err := west.Update(ctx, slice); err != nil {
		t.Fatal(err)
	}
	want = fmt.Sprintf("10.9.0.1=true 10.9.0.2=true port http:%d", port)
	eventually(t, "the gateway pod's readiness copied", func() (bool, string) {
		got := derivedSlicesIn(t, west, "shop", "web")
		return got == want, got + " want " + want
	})

	// shop's own waypoint wins over the gateway.
	own := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: wellknown.WaypointName, Namespace: "shop"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "hbone", Port: wellknown.HBONEPort}}},
	}
	if err := west.Create(ctx, own); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the derived Service selecting shop's own waypoint, the hub's slices gone", func() (bool, string) {
		err := west.Get(ctx, client.ObjectKey{Namespace: "shop", Name: wellknown.DerivedServiceName("web")}, &derived)
		got := derivedSlicesIn(t, west, "shop", "web")
		return err == nil && derived.Spec.Selector[wellknown.WaypointPodLabel] == wellknown.WaypointName && got == "",
			fmt.Sprintf("%v selector %v slices %q", err, derived.Spec.Selector, got)
	})

	// Kubernetes' EndpointSlice controller makes the slices of a Service with a selector and
	// copies the Service's labels onto them, the write-back labels included: the hub must leave
	// them alone while the namespace's own waypoint serves it...
	controllerSlice := gatewaySliceOf(map[string]bool{"10.1.0.7": true})
	controllerSlice.Namespace, controllerSlice.Name = "shop", "web-global-x7k2p"
	controllerSlice.Labels = map[string]string{
		discoveryv1.LabelServiceName: wellknown.DerivedServiceName("web"), discoveryv1.LabelManagedBy: "endpointslice-controller.k8s.io",
		wellknown.ManagedByLabel: wellknown.ManagedByValue, wellknown.GlobalServiceNameLabel: "web",
	}
	if err := west.Create(ctx, controllerSlice); err != nil {
		t.Fatal(err)
	}
	for range 3 { // the slice's creation wakes the hub; a pass takes well under a second here
		time.Sleep(time.Second)
		if err := west.Get(ctx, client.ObjectKeyFromObject(controllerSlice), &discoveryv1.EndpointSlice{}); err != nil {
			t.Fatalf("the EndpointSlice controller's slice of the derived Service: %v, want it left alone", err)
		}
	}
	// ...and delete them once the gateway serves the namespace again: the controller makes no
	// slices for a Service without a selector and does not remove its old ones.
	if err := west.Delete(ctx, own); err != nil {
		t.Fatal(err)
	}
	want = fmt.Sprintf("10.9.0.1=true 10.9.0.2=true port http:%d", port)
	eventually(t, "the gateway's pods the only endpoints again", func() (bool, string) {
		got := derivedSlicesIn(t, west, "shop", "web")
		return got == want, got + " want " + want
	})
}
