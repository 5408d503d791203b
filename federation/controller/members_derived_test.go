package controller

import (
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/member"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
)

// TestMemberDerivationsFollowEvents drives real passes against a real member: a pass after
// which the member's caches saw no event reuses what the pass before derived (the merge is
// told the member's exports are the same) and writes nothing; after each kind of change the
// exports are made of (a Service's annotations and ports, an EndpointSlice's endpoints, a
// Node's zone, a Namespace's labels and annotations, a ServiceExport) and after a change of
// the member's site, the next pass derives the member again and the store shows the change.
func TestMemberDerivationsFollowEvents(t *testing.T) {
	e := newMetricsEnv(t, time.Hour, time.Hour) // no probe: nothing but the test moves the member
	ctx := t.Context()
	pname, port := "http", int32(8080)
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a", Labels: map[string]string{wellknown.ZoneLabel: "zone-a"}}}
	web := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Annotations: map[string]string{wellknown.ServiceScopeKey: "global"}},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "web-1", Namespace: "shop", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &pname, Port: &port}},
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}, NodeName: &node.Name}},
	}
	shop := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}
	data := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "data"}}
	api := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "shop"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
	db := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "data"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 5432}}}}
	for _, obj := range []client.Object{node, shop, data, web, slice, api, db} {
		if err := e.member.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	e.settle(t)
	if eps := e.storedEndpoints(t, "shop", "web"); len(eps) != 1 || eps[0].Address != "10.0.0.1" || eps[0].Locality.Zone != "zone-a" {
		t.Fatalf("web's stored endpoints %+v, want 10.0.0.1 in zone-a", eps)
	}

	t.Run("no change", func(t *testing.T) {
		e.settle(t)
		before := e.events(t)
		o, writes := e.derivePass(t)
		if !o.p.same["east-1"] || writes != 0 {
			t.Fatalf("pass without a change: same %v, %v store writes; want east-1 reused and no write", o.p.same, writes)
		}
		if n := exportCounts(o.p.exports)["east-1"]; n != 1 || e.events(t) != before {
			t.Fatalf("reused pass gathered %d exports of east-1 (want web's), events %d → %d", n, before, e.events(t))
		}
	})
	t.Run("Service annotation", func(t *testing.T) {
		e.changeMember(t, web, func() { web.Annotations[wellknown.TrafficDistributionKey] = string(model.ModePreferCluster) })
		if r := e.storedService(t, "shop", "web"); r == nil || r.Distribution.Mode != string(model.ModePreferCluster) {
			t.Fatalf("web's stored record %+v, want distribution %s", r, model.ModePreferCluster)
		}
	})
	t.Run("Service port", func(t *testing.T) {
		e.changeMember(t, web, func() { web.Spec.Ports = append(web.Spec.Ports, corev1.ServicePort{Name: "grpc", Port: 9090}) })
		r := e.storedService(t, "shop", "web")
		if r == nil || !slices.ContainsFunc(r.Ports, func(p store.StoredPort) bool { return p.Port == 9090 }) {
			t.Fatalf("web's stored record %+v, want port 9090", r)
		}
	})
	t.Run("EndpointSlice endpoint", func(t *testing.T) {
		e.changeMember(t, slice, func() { slice.Endpoints[0].Addresses = []string{"10.0.0.2"} })
		if eps := e.storedEndpoints(t, "shop", "web"); len(eps) != 1 || eps[0].Address != "10.0.0.2" {
			t.Fatalf("web's stored endpoints %+v, want 10.0.0.2", eps)
		}
	})
	t.Run("Node zone", func(t *testing.T) {
		e.changeMember(t, node, func() { node.Labels[wellknown.ZoneLabel] = "zone-b" })
		if eps := e.storedEndpoints(t, "shop", "web"); len(eps) != 1 || eps[0].Locality.Zone != "zone-b" {
			t.Fatalf("web's stored endpoints %+v, want them in zone-b", eps)
		}
	})
	t.Run("member site", func(t *testing.T) {
		// No member event: the MemberCluster's network is the hub's.
		e.settle(t)
		var mc meshfedv1.MemberCluster
		if err := e.hub.Client.Get(ctx, client.ObjectKey{Name: "east-1"}, &mc); err != nil {
			t.Fatal(err)
		}
		mc.Spec.Network = "net-1"
		if err := e.hub.Client.Update(ctx, &mc); err != nil {
			t.Fatal(err)
		}
		if o, _ := e.derivePass(t); o.p.same["east-1"] {
			t.Error("east-1 reused after its network changed")
		}
		if eps := e.storedEndpoints(t, "shop", "web"); len(eps) != 1 || eps[0].Locality.Network != "net-1" {
			t.Fatalf("web's stored endpoints %+v, want them in net-1", eps)
		}
	})
	t.Run("Namespace label", func(t *testing.T) {
		e.changeMember(t, shop, func() { metav1.SetMetaDataLabel(&shop.ObjectMeta, wellknown.NetworkLabel, "net-shop") })
		if eps := e.storedEndpoints(t, "shop", "web"); len(eps) != 1 || eps[0].Locality.Network != "net-shop" {
			t.Fatalf("web's stored endpoints %+v, want them in net-shop", eps)
		}
	})
	t.Run("Namespace annotation", func(t *testing.T) {
		e.changeMember(t, shop, func() { metav1.SetMetaDataAnnotation(&shop.ObjectMeta, wellknown.ServiceScopeKey, "global") })
		if r := e.storedService(t, "shop", "api"); r == nil {
			t.Fatal("api not stored after its namespace exported it")
		}
	})
	t.Run("ServiceExport", func(t *testing.T) {
		if !e.east(t).Conn.HasMCS() {
			t.Fatal("the test member serves no ServiceExports; this step would prove nothing")
		}
		e.settle(t)
		se := &mcsv1alpha1.ServiceExport{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "data"}}
		before := e.events(t)
		if err := e.member.Client.Create(ctx, se); err != nil {
			t.Fatal(err)
		}
		e.awaitEvent(t, se, before)
		if o, _ := e.derivePass(t); o.p.same["east-1"] {
			t.Error("east-1 reused after a ServiceExport was created")
		}
		if r := e.storedService(t, "data", "db"); r == nil {
			t.Fatal("db not stored after its ServiceExport was created")
		}
	})
}

// TestDeriveMemberOwnsItsExports: a member's kept exports are the list member.Exports returned
// (which nothing modifies once returned) when it holds no endpoints patch, else a copy of it
// with the same endpoints slices and without the patches that list hands out once.
func TestDeriveMemberOwnsItsExports(t *testing.T) {
	pname, port := "http", int32(8080)
	slice := func(name, rv string, ips ...string) discoveryv1.EndpointSlice {
		s := discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{
				Name: name, Namespace: "shop", UID: types.UID(name), ResourceVersion: rv, Labels: map[string]string{discoveryv1.LabelServiceName: "web"},
			},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: &pname, Port: &port}},
		}
		for _, ip := range ips {
			s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{ip}})
		}
		return s
	}
	key := types.NamespacedName{Namespace: "shop", Name: "web"}
	objs := &member.Objects{
		Services: []corev1.Service{{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", ResourceVersion: "1", Annotations: map[string]string{wellknown.ServiceScopeKey: "global"}},
			Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
		}},
		Namespaces:     map[string]*corev1.Namespace{"shop": {ObjectMeta: metav1.ObjectMeta{Name: "shop", ResourceVersion: "1"}}},
		EndpointSlices: map[types.NamespacedName][]discoveryv1.EndpointSlice{key: {slice("web-1", "1", "10.0.1.1", "10.0.1.2"), slice("web-2", "1", "10.0.2.1", "10.0.2.2")}},
		Derived:        &member.EndpointsCache{},
		Exported:       &member.ExportsCache{},
	}
	from := derivedFrom{site: member.Site{Cluster: "east-1", Network: "net-0"}, trustDomain: DefaultTrustDomain}
	first, _ := deriveMember(from, objs)
	addresses := func(eps []model.Endpoint) []string {
		var out []string
		for _, ep := range eps {
			out = append(out, ep.Address)
		}
		return out
	}
	wantFirst := []string{"10.0.1.1", "10.0.1.2", "10.0.2.1", "10.0.2.2"}
	if len(first.exports) != 1 || !slices.Equal(addresses(first.exports[0].Endpoints), wantFirst) {
		t.Fatalf("first derivation %+v, want web at %v", first.exports, wantFirst)
	}
	if _, exports := deriveMember(from, objs); &exports[0] != &first.exports[0] {
		t.Error("the exports list without patches was copied, not kept")
	}
	objs.EndpointSlices[key][1] = slice("web-2", "2", "10.0.2.1", "10.0.2.3")
	second, exports := deriveMember(from, objs)
	if len(exports) != 1 || exports[0].EndpointsPatch == nil {
		t.Fatalf("member.Exports after one slice changed: %+v, want web with an endpoints patch", exports)
	}
	if len(second.exports) != 1 || second.exports[0].EndpointsPatch != nil || !model.SameEndpoints(second.exports[0].Endpoints, exports[0].Endpoints) {
		t.Fatalf("kept exports %+v, want web with the pass's endpoints slice and no patch", second.exports)
	}
	if got := addresses(first.exports[0].Endpoints); !slices.Equal(got, wantFirst) {
		t.Fatalf("the first derivation's kept exports changed with the next call: web at %v, want %v", got, wantFirst)
	}
}

// derivePass runs one whole pass (as SyncOnce) and returns its outcome and how many store
// writes it made.
func (e *metricsEnv) derivePass(t *testing.T) (*outcome, float64) {
	t.Helper()
	before := value(t, storeWrites)
	o, err := e.fed.storePass(t.Context())
	if err != nil {
		t.Fatalf("store pass: %v", err)
	}
	if _, err := e.fed.publish(t.Context(), o); err != nil {
		t.Fatalf("publish: %v", err)
	}
	return o, value(t, storeWrites) - before
}

// settle runs passes until one reuses east-1's derivation and no event follows it (the
// write-back of a pass moves the member too).
func (e *metricsEnv) settle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		before := e.events(t)
		o, _ := e.derivePass(t)
		time.Sleep(100 * time.Millisecond)
		if o.p.same["east-1"] && e.events(t) == before {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("east-1 never settled: same %v, events %d → %d", o.p.same, before, e.events(t))
		}
	}
}

// changeMember settles, updates obj in the member after change (obj is read again first),
// waits for the hub's handler to count the event, and runs a pass, which must derive east-1
// again.
func (e *metricsEnv) changeMember(t *testing.T, obj client.Object, change func()) {
	t.Helper()
	e.settle(t)
	if err := e.member.Client.Get(t.Context(), client.ObjectKeyFromObject(obj), obj); err != nil {
		t.Fatal(err)
	}
	change()
	before := e.events(t)
	if err := e.member.Client.Update(t.Context(), obj); err != nil {
		t.Fatal(err)
	}
	e.awaitEvent(t, obj, before)
	if o, _ := e.derivePass(t); o.p.same["east-1"] {
		t.Errorf("east-1 reused after %T %s changed", obj, obj.GetName())
	}
}

// awaitEvent waits until the hub's cache of east-1 holds obj at its resourceVersion and east-1's
// events count moved past before.
func (e *metricsEnv) awaitEvent(t *testing.T, obj client.Object, before uint64) {
	t.Helper()
	cached := obj.DeepCopyObject().(client.Object)
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := e.east(t).Conn.Cluster().GetClient().Get(t.Context(), client.ObjectKeyFromObject(obj), cached)
		if err == nil && cached.GetResourceVersion() == obj.GetResourceVersion() && e.events(t) != before {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hub never counted the event of %T %s (cached %q, want %q; events %d → %d)",
				obj, obj.GetName(), cached.GetResourceVersion(), obj.GetResourceVersion(), before, e.events(t))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// east is east-1 as the registry lists it.
func (e *metricsEnv) east(t *testing.T) Member {
	t.Helper()
	m, ok := e.members.Get("east-1", time.Now())
	if !ok {
		t.Fatal("east-1 is not connected")
	}
	return m
}

// events is east-1's events count.
func (e *metricsEnv) events(t *testing.T) uint64 {
	t.Helper()
	return e.east(t).Events
}

// storedService is the store's record of service ns/name, nil when there is none.
func (e *metricsEnv) storedService(t *testing.T, ns, name string) *store.ServiceRecord {
	t.Helper()
	l, err := e.fed.store.List(t.Context(), store.NamespacesPrefix)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range l.Services() {
		if r.Namespace == ns && r.Name == name {
			return r
		}
	}
	return nil
}

// storedEndpoints are the store's endpoints of service ns/name in east-1.
func (e *metricsEnv) storedEndpoints(t *testing.T, ns, name string) []model.Endpoint {
	t.Helper()
	l, err := e.fed.store.List(t.Context(), store.NamespacesPrefix)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range l.Endpoints() {
		if r.Namespace == ns && r.Name == name && r.Cluster == "east-1" {
			return r.Model().Endpoints
		}
	}
	return nil
}
