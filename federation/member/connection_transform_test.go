package member

import (
	"fmt"
	"log/slog"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
)

// TestConnectionCacheTransform: on a real API server, the caches keep of a Node only its name,
// UID, resourceVersion and labels, and keep every field of an EndpointSlice, its endpoints in
// a list as long as they are and their node and zone names shared between the slices; a Node
// label change still reaches the exports.
func TestConnectionCacheTransform(t *testing.T) {
	m, cfg := startMember(t)
	ctx := t.Context()
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{wellknown.RegionLabel: "eu", wellknown.ZoneLabel: "eu-1a"},
			Annotations: map[string]string{"node.alpha.kubernetes.io/ttl": "0"}},
		Spec: corev1.NodeSpec{PodCIDR: "10.244.1.0/24"},
	}
	if err := m.Client.Create(ctx, node); err != nil {
		t.Fatal(err)
	}
	node.Status = corev1.NodeStatus{
		Capacity:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4")},
		Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady"}},
		Images:     []corev1.ContainerImage{{Names: []string{"registry.example/app:1"}, SizeBytes: 1 << 20}},
	}
	if err := m.Client.Status().Update(ctx, node); err != nil {
		t.Fatal(err)
	}
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}},
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Annotations: map[string]string{wellknown.ServiceScopeKey: "global"}},
			Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
		},
	} {
		if err := m.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	// Two slices of web, each with endpoints on n1 in zone eu-1a; the API server's answer, as
	// decoded, is what the cache would hold without the transform.
	want := map[string]*discoveryv1.EndpointSlice{}
	for s := range 2 {
		slice := &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: fmt.Sprintf("web-%d", s), Namespace: "shop", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(8080))}},
		}
		for i := range 5 {
			slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
				Addresses: []string{fmt.Sprintf("10.244.%d.%d", s, i+1)}, NodeName: ptr("n1"), Zone: ptr("eu-1a"),
				Hostname:  ptr(fmt.Sprintf("web-%d-%d", s, i)),
				TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: fmt.Sprintf("web-%d-%d", s, i)},
				Hints:     &discoveryv1.EndpointHints{ForZones: []discoveryv1.ForZone{{Name: "eu-1a"}}},
			})
		}
		if err := m.Client.Create(ctx, slice); err != nil {
			t.Fatal(err)
		}
		want[slice.Name] = slice
	}

	conn, err := Connect("c1", cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	if err := conn.Start(ctx); err != nil {
		t.Fatal(err)
	}
	objs, err := conn.Objects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := objs.Nodes["n1"]
	if n == nil {
		t.Fatal("node n1 not cached")
	}
	wantNode := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", UID: n.UID, ResourceVersion: n.ResourceVersion, Labels: node.Labels}}
	if n.UID == "" || n.ResourceVersion == "" || !reflect.DeepEqual(*n, wantNode) {
		t.Errorf("cached node %+v, want only its name, UID, resourceVersion and labels %+v", *n, wantNode)
	}
	cached := objs.EndpointSlices[types.NamespacedName{Namespace: "shop", Name: "web"}]
	if len(cached) != 2 {
		t.Fatalf("%d slices of web cached, want 2", len(cached))
	}
	var nodeName, zone *string
	for i := range cached {
		s := &cached[i]
		w := want[s.Name]
		if w == nil {
			t.Fatalf("unexpected slice %s", s.Name)
		}
		if !reflect.DeepEqual(s.Endpoints, w.Endpoints) || !reflect.DeepEqual(s.Ports, w.Ports) || s.AddressType != w.AddressType || !reflect.DeepEqual(s.Labels, w.Labels) {
			t.Errorf("cached slice %s differs from the one written:\n%+v\nwant\n%+v", s.Name, s.Endpoints, w.Endpoints)
		}
		if cap(s.Endpoints) != len(s.Endpoints) {
			t.Errorf("slice %s: %d endpoints held in a list of %d", s.Name, len(s.Endpoints), cap(s.Endpoints))
		}
		for j := range s.Endpoints {
			e := &s.Endpoints[j]
			if nodeName == nil {
				nodeName, zone = e.NodeName, e.Zone
			}
			if e.NodeName != nodeName || e.Zone != zone {
				t.Errorf("slice %s endpoint %d holds its own copy of its node or zone name", s.Name, j)
			}
		}
	}

	// A Node label change still reaches the exports.
	site := Site{Cluster: "c1", Network: "net-a", Region: "default"}
	if got := snapshotExports(t, conn, site); len(got) != 1 || got[0].Endpoints[0].Locality.Zone != "eu-1a" {
		t.Fatalf("exports %+v, want web's endpoints in eu-1a", got)
	}
	patch := client.MergeFrom(node.DeepCopy())
	node.Labels[wellknown.ZoneLabel] = "eu-1b"
	if err := m.Client.Patch(ctx, node, patch); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := snapshotExports(t, conn, site)
		if len(got) == 1 && len(got[0].Endpoints) == 10 && got[0].Endpoints[9].Locality.Zone == "eu-1b" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the zone label change of n1 never reached the exports: %+v", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCacheTransformIdempotent: the transform of a transformed object changes nothing, names
// stay shared once the table starts again, and endpoints without names keep none.
func TestCacheTransformIdempotent(t *testing.T) {
	transform := CacheTransform()
	slice := func(node string) *discoveryv1.EndpointSlice {
		s := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "s", ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "x"}}}}
		s.Endpoints = make([]discoveryv1.Endpoint, 0, 8)
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{"10.0.0.1"}, NodeName: ptr(node), Zone: ptr("z")},
			discoveryv1.Endpoint{Addresses: []string{"10.0.0.2"}})
		return s
	}
	once, err := transform(slice("n1"))
	if err != nil {
		t.Fatal(err)
	}
	s := once.(*discoveryv1.EndpointSlice)
	if s.ManagedFields != nil || cap(s.Endpoints) != 2 || s.Endpoints[1].NodeName != nil || s.Endpoints[1].Zone != nil {
		t.Fatalf("transformed slice %+v", s)
	}
	before := s.DeepCopy()
	twice, err := transform(s)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(twice, before) {
		t.Errorf("transform of a transformed slice: %+v, want %+v", twice, before)
	}
	first := s.Endpoints[0].NodeName
	for i := range maxSharedNames + 1 {
		if _, err := transform(slice(fmt.Sprintf("other-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := transform(slice("n1")); *got.(*discoveryv1.EndpointSlice).Endpoints[0].NodeName != "n1" || *first != "n1" {
		t.Error("a name changed once the table started again")
	}
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"a": "b"}}, Spec: corev1.NodeSpec{PodCIDR: "10.0.0.0/24"}}
	once, _ = transform(n)
	twice, _ = transform(once.(*corev1.Node).DeepCopy())
	if !reflect.DeepEqual(once, twice) || once.(*corev1.Node).Spec.PodCIDR != "" {
		t.Errorf("node transformed %+v, again %+v", once, twice)
	}
}
