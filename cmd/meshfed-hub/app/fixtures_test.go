package app

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/membership"
	"github.com/meshfed/meshfed/e2e/framework"
	"github.com/meshfed/meshfed/federation/store"
)

// joinSegment runs the join code path for a member, placing it in a segment; joining again
// moves the existing member to the new network and segment (--force).
func joinSegment(t *testing.T, hub, m *framework.Cluster, network, segment string) {
	t.Helper()
	joinNamed(t, hub, m, membership.Options{Name: m.Name, Network: network, Segment: segment, Force: true})
}

// joinNamed joins the cluster m with opts (into the hub's namespace).
func joinNamed(t *testing.T, hub, m *framework.Cluster, opts membership.Options) {
	t.Helper()
	name, segment := opts.Name, opts.Segment
	hubClient, err := membership.NewClient(hub.Config)
	if err != nil {
		t.Fatal(err)
	}
	memberClient, err := membership.NewClient(m.Config)
	if err != nil {
		t.Fatal(err)
	}
	sides := membership.Sides{Hub: hubClient, Member: memberClient, MemberConfig: m.Config, TokenTTL: time.Hour, VerifyTimeout: 30 * time.Second}
	opts.HubNamespace = wellknown.SystemNamespace
	if err := membership.Join(t.Context(), sides, opts, &discard{}); err != nil {
		t.Fatalf("join %s as %s into segment %s: %v", m.Name, name, segment, err)
	}
}

// serviceIn reads a service record of any domain; false while it is absent or unreadable.
func (e *hubEnv) serviceIn(t *testing.T, ns, domain, name string) (*store.ServiceRecord, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	entry, ok, err := e.store.Get(ctx, store.ServiceKey(ns, domain, name))
	if err != nil || !ok {
		return nil, false
	}
	return entry.Record.(*store.ServiceRecord), true
}

// waitImports waits for the store record of ns/domain/name to be imported by exactly want.
func (e *hubEnv) waitImports(t *testing.T, ns, domain, name string, want ...string) *store.ServiceRecord {
	t.Helper()
	var rec *store.ServiceRecord
	eventually(t, fmt.Sprintf("%s/%s/%s imported by %v", ns, domain, name, want), func() (bool, string) {
		r, ok := e.serviceIn(t, ns, domain, name)
		if !ok {
			return false, "no service record"
		}
		rec = r
		return slices.Equal(importers(r), want), fmt.Sprint(importers(r))
	})
	return rec
}

// checkWriteBack waits for the ServiceImport and derived Service of ns/name in a member and
// checks the derived ports against the record's allocated waypoint ports.
func checkWriteBack(t *testing.T, member string, c client.Client, rec *store.ServiceRecord) {
	t.Helper()
	var got imported
	eventually(t, fmt.Sprintf("%s/%s written back into %s", rec.Namespace, rec.Name, member), func() (bool, string) {
		got = importedIn(t, c, rec.Namespace, rec.Name)
		return got.err == nil && len(got.si.Spec.IPs) == 1 && len(got.derived.Spec.Ports) == len(rec.Ports),
			fmt.Sprintf("%v ips %v ports %+v", got.err, got.si.Spec.IPs, got.derived.Spec.Ports)
	})
	for i, p := range rec.Ports {
		dp := got.derived.Spec.Ports[i]
		if p.WaypointPort == 0 || dp.Port != p.Port || dp.TargetPort != intstr.FromInt32(p.WaypointPort) {
			t.Errorf("%s: derived port %+v, record port %+v", member, dp, p)
		}
	}
	if got.si.Spec.IPs[0] != got.derived.Spec.ClusterIP {
		t.Errorf("%s: serviceimport ips %v, derived ClusterIP %s", member, got.si.Spec.IPs, got.derived.Spec.ClusterIP)
	}
}

// createService creates a Service with the given ports and annotations and an EndpointSlice
// with one address per ip.
func createService(t *testing.T, c client.Client, ns, name string, annotations map[string]string, ports []corev1.ServicePort, ips ...string) {
	t.Helper()
	_ = c.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: annotations},
		Spec:       corev1.ServiceSpec{Ports: ports},
	}
	if err := c.Create(t.Context(), svc); err != nil {
		t.Fatal(err)
	}
	setEndpoints(t, c, ns, name, ports[0].Name, ips...)
}

// setEndpoints creates or replaces the EndpointSlice <name>-1 of a Service: one ready address
// per ip, one port named portName on 8080.
func setEndpoints(t *testing.T, c client.Client, ns, name, portName string, ips ...string) {
	t.Helper()
	port := int32(8080)
	eps := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: name + "-1", Namespace: ns}}
	err := c.Get(t.Context(), client.ObjectKeyFromObject(eps), eps)
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	eps.Labels = map[string]string{discoveryv1.LabelServiceName: name}
	eps.AddressType = discoveryv1.AddressTypeIPv4
	eps.Ports = []discoveryv1.EndpointPort{{Name: &portName, Port: &port}}
	eps.Endpoints = nil
	for _, ip := range ips {
		eps.Endpoints = append(eps.Endpoints, discoveryv1.Endpoint{Addresses: []string{ip}})
	}
	if apierrors.IsNotFound(err) {
		err = c.Create(t.Context(), eps)
	} else {
		err = c.Update(t.Context(), eps)
	}
	if err != nil {
		t.Fatal(err)
	}
}
