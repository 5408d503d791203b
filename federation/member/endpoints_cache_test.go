package member

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
)

// TestEndpointsCache: the cache answers with the endpoints it derived as long as the slices'
// UIDs and resourceVersions, the site and the Nodes' localities are the same, and derives them
// again (equal to EndpointsFromSlices) when any of them changes.
func TestEndpointsCache(t *testing.T) {
	key := types.NamespacedName{Namespace: "shop", Name: "cart"}
	site := Site{Cluster: "east-1", Network: "net-a", Region: "r"}
	slice := func(uid, rv, addr string) discoveryv1.EndpointSlice {
		return discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{UID: types.UID(uid), ResourceVersion: rv},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{addr}, NodeName: ptr("n1")}},
		}
	}
	nodes := func(zone string, ready corev1.ConditionStatus) map[string]*corev1.Node {
		return map[string]*corev1.Node{"n1": {
			ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{wellknown.ZoneLabel: zone}},
			Status:     corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready}}},
		}}
	}
	base := []discoveryv1.EndpointSlice{slice("a", "1", "10.0.0.1"), slice("b", "1", "10.0.0.2")}
	tests := []struct {
		name   string
		site   Site
		slices []discoveryv1.EndpointSlice
		nodes  map[string]*corev1.Node
		cached bool
	}{
		{"same inputs", site, base, nodes("z1", corev1.ConditionTrue), true},
		{"same slices in another order", site, []discoveryv1.EndpointSlice{base[1], base[0]}, nodes("z1", corev1.ConditionTrue), true},
		{"a Node's status changed, not its locality", site, base, nodes("z1", corev1.ConditionFalse), true},
		{"a slice updated", site, []discoveryv1.EndpointSlice{base[0], slice("b", "2", "10.0.0.3")}, nodes("z1", corev1.ConditionTrue), false},
		{"a slice recreated under its name", site, []discoveryv1.EndpointSlice{base[0], slice("c", "1", "10.0.0.2")}, nodes("z1", corev1.ConditionTrue), false},
		{"a slice removed", site, base[:1], nodes("z1", corev1.ConditionTrue), false},
		{"a Node's zone changed", site, base, nodes("z2", corev1.ConditionTrue), false},
		{"a Node added", site, base, map[string]*corev1.Node{"n1": nodes("z1", corev1.ConditionTrue)["n1"], "n2": {}}, false},
		{"the namespace's network changed", Site{Cluster: "east-1", Network: "net-b", Region: "r"}, base, nodes("z1", corev1.ConditionTrue), false},
		{"a slice without resourceVersion", site, []discoveryv1.EndpointSlice{base[0], slice("b", "", "10.0.0.2")}, nodes("z1", corev1.ConditionTrue), false},
		{"two slices with one UID", site, []discoveryv1.EndpointSlice{base[0], slice("a", "1", "10.0.0.2")}, nodes("z1", corev1.ConditionTrue), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c EndpointsCache
			n0 := nodes("z1", corev1.ConditionTrue)
			first, _ := c.endpoints(key, site, base, n0, nodeLocalities(n0))
			got, _ := c.endpoints(key, tt.site, tt.slices, tt.nodes, nodeLocalities(tt.nodes))
			if want := EndpointsFromSlices(tt.site, tt.slices, tt.nodes); !reflect.DeepEqual(got, want) {
				t.Fatalf("got %+v, want %+v", got, want)
			}
			if reused := len(got) > 0 && &got[0] == &first[0]; reused != tt.cached {
				t.Errorf("answered from the cache: %v, want %v", reused, tt.cached)
			}
		})
	}
}

// TestExportsKeepsDerivedOfExportedServices: Exports fills the cache with the Services it
// exported and drops those it no longer exports.
func TestExportsKeepsDerivedOfExportedServices(t *testing.T) {
	svc := func(name string, exported bool) corev1.Service {
		s := corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name}}
		if exported {
			s.Annotations = map[string]string{wellknown.ServiceScopeKey: "global"}
		}
		return s
	}
	eps := func(uid string) []discoveryv1.EndpointSlice {
		return []discoveryv1.EndpointSlice{{
			ObjectMeta:  metav1.ObjectMeta{UID: types.UID(uid), ResourceVersion: "1"},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}}},
		}}
	}
	var cache EndpointsCache
	objs := &Objects{
		Services: []corev1.Service{svc("cart", true), svc("pay", true)},
		EndpointSlices: map[types.NamespacedName][]discoveryv1.EndpointSlice{
			{Namespace: "shop", Name: "cart"}: eps("a"), {Namespace: "shop", Name: "pay"}: eps("b"),
		},
		Derived: &cache,
	}
	site := Site{Cluster: "east-1", Network: "net-a"}
	if exports, _ := Exports(site, objs); len(exports) != 2 || cache.len() != 2 {
		t.Fatalf("%d exports, %d services cached; want 2 and 2", len(exports), cache.len())
	}
	objs.Services[1] = svc("pay", false)
	if exports, _ := Exports(site, objs); len(exports) != 1 || cache.len() != 1 {
		t.Fatalf("%d exports, %d services cached; want 1 and 1", len(exports), cache.len())
	}
}

// TestEndpointsCacheConvertsOnlyChangedSlices: when one slice of a Service changes, the other
// slices' endpoints are taken from the cache, not converted again.
func TestEndpointsCacheConvertsOnlyChangedSlices(t *testing.T) {
	key := types.NamespacedName{Namespace: "shop", Name: "cart"}
	site := Site{Cluster: "east-1", Network: "net-a"}
	slice := func(uid, rv, addr string) discoveryv1.EndpointSlice {
		return discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: uid, UID: types.UID(uid), ResourceVersion: rv},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{addr}}},
		}
	}
	var c EndpointsCache
	c.endpoints(key, site, []discoveryv1.EndpointSlice{slice("a", "1", "10.0.0.1"), slice("b", "1", "10.0.0.2")}, nil, 0)
	before := c.m[key]
	in := []discoveryv1.EndpointSlice{slice("a", "1", "10.0.0.1"), slice("b", "2", "10.0.0.3")}
	got, _ := c.endpoints(key, site, in, nil, 0)
	if want := EndpointsFromSlices(site, in, nil); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	after := c.m[key]
	epsOf := func(d *derivedEndpoints, uid types.UID) []model.Endpoint {
		t.Helper()
		s, ok := d.find(uid)
		if !ok {
			t.Fatalf("slice %s not cached", uid)
		}
		return s.eps
	}
	if &epsOf(after, "a")[0] != &epsOf(before, "a")[0] {
		t.Error("the unchanged slice was converted again")
	}
	if &epsOf(after, "b")[0] == &epsOf(before, "b")[0] {
		t.Error("the changed slice was not converted again")
	}
}

// TestEndpointsFromSlicesIgnoresSliceOrder: copies of one address, as ready, in two slices give
// the same result whatever the order the slices are listed in (the slice first by name wins).
func TestEndpointsFromSlicesIgnoresSliceOrder(t *testing.T) {
	site := Site{Cluster: "east-1", Network: "net-a"}
	slice := func(name, node string, ready bool) discoveryv1.EndpointSlice {
		return discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: name},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints: []discoveryv1.Endpoint{
				{Addresses: []string{"10.0.0.1"}, NodeName: ptr(node), Conditions: discoveryv1.EndpointConditions{Ready: ptr(ready)}},
				{Addresses: []string{"10.0.0." + name[len(name)-1:]}},
			},
		}
	}
	a, b, c := slice("s-5", "n1", false), slice("s-6", "n2", false), slice("s-7", "n3", true)
	first := EndpointsFromSlices(site, []discoveryv1.EndpointSlice{a, b, c}, nil)
	for _, order := range [][]discoveryv1.EndpointSlice{{c, b, a}, {b, a, c}, {b, c, a}} {
		if got := EndpointsFromSlices(site, order, nil); !reflect.DeepEqual(got, first) {
			t.Fatalf("got %+v, want %+v", got, first)
		}
	}
	if first[0].Locality.Node != "n3" || len(first) != 4 {
		t.Fatalf("10.0.0.1 from node %s (want the ready copy, n3), %d endpoints (want 4)", first[0].Locality.Node, len(first))
	}
	if got := EndpointsFromSlices(site, []discoveryv1.EndpointSlice{b, a}, nil); got[0].Locality.Node != "n1" {
		t.Fatalf("10.0.0.1 from node %s, want n1 (slice s-5, first by name)", got[0].Locality.Node)
	}
}

// TestEndpointsCacheManySlices: a Service with more slices than an entry scans for (found
// through its map by UID) is cached as one with few: the same endpoints while no slice
// changed, and only a changed slice converted again.
func TestEndpointsCacheManySlices(t *testing.T) {
	key := types.NamespacedName{Namespace: "shop", Name: "cart"}
	site := Site{Cluster: "east-1", Network: "net-a"}
	in := make([]discoveryv1.EndpointSlice, 2*sliceIndexMin)
	for i := range in {
		name := fmt.Sprintf("cart-%02d", i)
		in[i] = discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: name, UID: types.UID(name), ResourceVersion: "1"},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{fmt.Sprintf("10.0.0.%d", i+1)}}},
		}
	}
	slices.Reverse(in) // not in the order of their names
	var c EndpointsCache
	first, _ := c.endpoints(key, site, in, nil, 0)
	if want := EndpointsFromSlices(site, in, nil); !reflect.DeepEqual(first, want) {
		t.Fatalf("got %+v, want %+v", first, want)
	}
	before := c.m[key]
	if before.byUID == nil {
		t.Fatalf("%d slices cached without their map by UID", len(in))
	}
	if again, patch := c.endpoints(key, site, slices.Clone(in), nil, 0); &again[0] != &first[0] || patch != nil {
		t.Fatal("the same slices were derived again")
	}
	in[3].ResourceVersion, in[3].Endpoints[0].Addresses[0] = "2", "10.0.1.1"
	got, patch := c.endpoints(key, site, in, nil, 0)
	if want := EndpointsFromSlices(site, in, nil); !reflect.DeepEqual(got, want) || patch == nil {
		t.Fatalf("got %+v (patch %v), want %+v", got, patch, want)
	}
	after := c.m[key]
	for i := range in {
		uid := in[i].UID
		a, _ := after.find(uid)
		b, _ := before.find(uid)
		if converted := &a.eps[0] != &b.eps[0]; converted != (i == 3) {
			t.Errorf("slice %s converted again: %v, want %v", uid, converted, i == 3)
		}
	}
}
