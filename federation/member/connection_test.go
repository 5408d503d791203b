package member

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/e2e/framework"
	"github.com/meshfed/meshfed/federation/model"
)

// TestConnectionObjects connects to a real API server through the same kubeconfig path the
// hub uses for member Secrets and reads a member's exports from synced caches.
func TestConnectionObjects(t *testing.T) {
	m, cfg := startMember(t)
	ctx := t.Context()

	create := func(objs ...client.Object) {
		t.Helper()
		for _, o := range objs {
			if err := m.Client.Create(ctx, o); err != nil {
				t.Fatalf("create %T %s: %v", o, o.GetName(), err)
			}
		}
	}
	create(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{wellknown.NetworkLabel: "net-b"}}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{wellknown.RegionLabel: "eu", wellknown.ZoneLabel: "eu-1a"}}},
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Annotations: map[string]string{wellknown.ServiceScopeKey: "global"}},
			Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
		},
		&discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: "web-1", Namespace: "shop", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(8080))}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.244.1.5"}, NodeName: ptr("n1")}},
		},
	)

	conn, err := Connect("c1", cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	if _, err := conn.Objects(ctx); !errors.Is(err, ErrNotSynced) {
		t.Fatalf("snapshot before start: err = %v, want ErrNotSynced", err)
	}
	if err := conn.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if !conn.HasMCS() {
		t.Error("member serves ServiceExports but HasMCS is false")
	}
	site := Site{Cluster: "c1", Network: "net-a", Region: "default"}
	exports := snapshotExports(t, conn, site)
	if len(exports) != 1 || exports[0].Name != "web" || len(exports[0].Endpoints) != 1 {
		t.Fatalf("exports: %+v", exports)
	}
	want := model.Locality{Network: "net-b", Region: "eu", Zone: "eu-1a", Node: "n1", Cluster: "c1"}
	if got := exports[0].Endpoints[0].Locality; got != want {
		t.Errorf("locality %+v, want %+v", got, want)
	}
	// The caches keep no managedFields: the API server writes them on every object, the hub
	// never reads them.
	objs, err := conn.Objects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range objs.Services {
		if svc.ManagedFields != nil {
			t.Errorf("cached Service %s/%s keeps %d managedFields entries", svc.Namespace, svc.Name, len(svc.ManagedFields))
		}
	}
	for _, sl := range objs.EndpointSlices {
		for _, s := range sl {
			if s.ManagedFields != nil {
				t.Errorf("cached EndpointSlice %s/%s keeps managedFields", s.Namespace, s.Name)
			}
		}
	}
	if len(objs.Services) == 0 || len(objs.EndpointSlices) == 0 {
		t.Fatalf("no Service or EndpointSlice cached: %d, %d", len(objs.Services), len(objs.EndpointSlices))
	}

	// A ServiceExport added later reaches the snapshot through the watch.
	create(
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "shop"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 5432}}}},
		&mcsv1alpha1.ServiceExport{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "shop"}},
	)
	deadline := time.Now().Add(20 * time.Second)
	for len(snapshotExports(t, conn, site)) != 2 {
		if time.Now().After(deadline) {
			t.Fatal("ServiceExport of db never reached the snapshot")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func snapshotExports(t *testing.T, conn *Connection, site Site) []model.ClusterExport {
	t.Helper()
	objs, err := conn.Objects(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	exports, problems := Exports(site, objs)
	if len(problems) != 0 {
		t.Fatalf("problems: %+v", problems)
	}
	return exports
}

// startMember starts a real API server and returns it with the REST config the hub would
// build from its kubeconfig, as a member Secret holds it.
func startMember(t *testing.T) (*framework.Cluster, *rest.Config) {
	t.Helper()
	m := framework.Start(t, 1)[0]
	kc, err := m.Kubeconfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := RESTConfigFromKubeconfig(kc)
	if err != nil {
		t.Fatalf("framework kubeconfig refused: %v", err)
	}
	return m, cfg
}
