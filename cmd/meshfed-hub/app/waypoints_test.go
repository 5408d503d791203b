package app

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/store"
)

// waypointsIn reads a waypoint record; "absent" while there is none.
func (e *hubEnv) waypointsIn(t *testing.T, ns, cluster string) (*store.WaypointsRecord, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	entry, ok, err := e.store.Get(ctx, store.WaypointsKey(ns, cluster))
	switch {
	case err != nil:
		return nil, err.Error()
	case !ok:
		return nil, "absent"
	}
	r := entry.Record.(*store.WaypointsRecord)
	return r, fmt.Sprintf("%+v", *r)
}

// TestHubPublishesWaypoints follows a waypoint Service in a member into the store: the
// annotated address, then (annotation removed) its load balancer addresses, an invalid
// annotation as a Warning Event with the load balancer address kept, and the record withdrawn
// when the Service is deleted.
func TestHubPublishesWaypoints(t *testing.T) {
	env := startHub(t, "east-1", "west-1")
	ctx := t.Context()
	east := env.members["east-1"].Client
	if err := east.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name: wellknown.WaypointName, Namespace: "shop",
			Annotations: map[string]string{wellknown.HBONEAddressKey: "203.0.113.7:15008"},
		},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Name: "hbone", Port: wellknown.HBONEPort, Protocol: corev1.ProtocolTCP}}},
	}
	if err := east.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	want := func(what string, addrs ...string) {
		t.Helper()
		eventually(t, what, func() (bool, string) {
			r, state := env.waypointsIn(t, "shop", "east-1")
			return r != nil && r.Network == "net-0" && slices.Equal(r.Addresses, addrs), state
		})
	}
	want("the annotated address", "203.0.113.7:15008")
	if r, state := env.waypointsIn(t, "shop", "west-1"); r != nil {
		t.Errorf("west-1 has no waypoint but a record: %s", state)
	}

	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "198.51.100.9"}}
	if err := east.Status().Update(ctx, svc); err != nil {
		t.Fatal(err)
	}
	svc.Annotations[wellknown.HBONEAddressKey] = "not-an-address"
	if err := east.Update(ctx, svc); err != nil {
		t.Fatal(err)
	}
	want("the load balancer address behind an invalid annotation", "198.51.100.9:15008")
	eventually(t, "a Warning Event for the invalid annotation", func() (bool, string) {
		var evs corev1.EventList
		if err := east.List(ctx, &evs, client.InNamespace("shop")); err != nil {
			return false, err.Error()
		}
		for _, ev := range evs.Items {
			if ev.InvolvedObject.Name == wellknown.WaypointName && ev.Reason == string(meshfedv1.GlobalServiceReasonInvalidHBONEAddress) {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d events", len(evs.Items))
	})

	if err := east.Delete(ctx, svc); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the record withdrawn", func() (bool, string) {
		r, state := env.waypointsIn(t, "shop", "east-1")
		return r == nil && state == "absent", state
	})
}
