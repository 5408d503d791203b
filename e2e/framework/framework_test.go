package framework_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"

	"github.com/meshfed/meshfed/e2e/framework"
)

const (
	testNamespace = "shop"
	serviceName   = "web"
	sliceName     = "web-abcde"
	// endpointIP is only stored in the API; no traffic goes to it.
	endpointIP = "10.244.1.5"
)

// TestClusters starts three API servers, writes the same Service,
// EndpointSlice and ServiceExport to each, takes one down and brings it back.
func TestClusters(t *testing.T) {
	began := time.Now()
	clusters := framework.Start(t, 3)
	t.Logf("Start(t, 3) took %s", time.Since(began).Round(time.Millisecond))

	for _, c := range clusters {
		createWorkload(t, c)
		createMarker(t, c)
	}
	for _, c := range clusters {
		checkWorkload(t, c)
		checkIndependent(t, c, clusters)
		checkKubeconfig(t, c)
		checkRepoCRDs(t, c)
	}

	checkUnprivilegedUser(t, clusters[0])

	down, up := clusters[1], []*framework.Cluster{clusters[0], clusters[2]}
	host := down.Config.Host
	if err := down.Stop(); err != nil {
		t.Fatalf("Stop() error: %v", err)
	}
	checkUnreachable(t, down)
	for _, c := range up {
		checkWorkload(t, c)
		createNamespace(t, c, "during-outage")
	}

	began = time.Now()
	if err := down.Restart(); err != nil {
		t.Fatalf("Restart() error: %v", err)
	}
	t.Logf("Restart() took %s", time.Since(began).Round(time.Millisecond))
	if down.Config.Host != host || !down.Running() {
		t.Fatalf("after Restart() host = %q running = %v, want %q and true", down.Config.Host, down.Running(), host)
	}
	checkWorkload(t, down)
	createNamespace(t, down, "after-restart")
}

func createWorkload(t *testing.T, c *framework.Cluster) {
	t.Helper()
	createNamespace(t, c, testNamespace)
	for _, obj := range []client.Object{newService(), newEndpointSlice(), newServiceExport()} {
		if err := c.Client.Create(t.Context(), obj); err != nil {
			t.Fatalf("cluster %s: failed to create %T: %v", c.Name, obj, err)
		}
	}
}

func createNamespace(t *testing.T, c *framework.Cluster, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := c.Client.Create(t.Context(), ns); err != nil {
		t.Fatalf("cluster %s: failed to create namespace %s: %v", c.Name, name, err)
	}
}

func newService() *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: serviceName},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": serviceName},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
		},
	}
}

func newEndpointSlice() *discoveryv1.EndpointSlice {
	ready := true
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: testNamespace, Name: sliceName,
			Labels: map[string]string{discoveryv1.LabelServiceName: serviceName},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{endpointIP},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready},
		}},
		Ports: []discoveryv1.EndpointPort{{Name: new("http"), Port: new(int32(8080))}},
	}
}

func newServiceExport() *mcsv1alpha1.ServiceExport {
	return &mcsv1alpha1.ServiceExport{ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: serviceName}}
}

// checkWorkload reads back what createWorkload wrote.
func checkWorkload(t *testing.T, c *framework.Cluster) {
	t.Helper()
	ctx := t.Context()
	key := client.ObjectKey{Namespace: testNamespace, Name: serviceName}
	var svc corev1.Service
	if err := c.Client.Get(ctx, key, &svc); err != nil {
		t.Fatalf("cluster %s: failed to get service %s: %v", c.Name, key, err)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 80 || svc.Spec.ClusterIP == "" {
		t.Errorf("cluster %s: service %s = ports %v clusterIP %q, want port 80 and a cluster IP",
			c.Name, key, svc.Spec.Ports, svc.Spec.ClusterIP)
	}
	var slice discoveryv1.EndpointSlice
	if err := c.Client.Get(ctx, client.ObjectKey{Namespace: testNamespace, Name: sliceName}, &slice); err != nil {
		t.Fatalf("cluster %s: failed to get endpointslice %s: %v", c.Name, sliceName, err)
	}
	if len(slice.Endpoints) != 1 || len(slice.Endpoints[0].Addresses) != 1 || slice.Endpoints[0].Addresses[0] != endpointIP {
		t.Errorf("cluster %s: endpointslice endpoints = %+v, want one with %s", c.Name, slice.Endpoints, endpointIP)
	}
	var export mcsv1alpha1.ServiceExport
	if err := c.Client.Get(ctx, key, &export); err != nil {
		t.Fatalf("cluster %s: failed to get serviceexport %s: %v", c.Name, key, err)
	}
}

// createMarker writes a namespace named after the cluster, so that
// checkIndependent can tell the clusters apart.
func createMarker(t *testing.T, c *framework.Cluster) {
	t.Helper()
	createNamespace(t, c, "only-"+c.Name)
}

// checkIndependent fails if c holds another cluster's marker namespace.
func checkIndependent(t *testing.T, c *framework.Cluster, all []*framework.Cluster) {
	t.Helper()
	var list corev1.NamespaceList
	if err := c.Client.List(t.Context(), &list); err != nil {
		t.Fatalf("cluster %s: failed to list namespaces: %v", c.Name, err)
	}
	have := map[string]bool{}
	for _, ns := range list.Items {
		have[ns.Name] = true
	}
	for _, other := range all {
		if want := other == c; have["only-"+other.Name] != want {
			t.Errorf("cluster %s: has marker of %s = %v, want %v", c.Name, other.Name, !want, want)
		}
	}
}

// checkKubeconfig connects through the rendered kubeconfig alone.
func checkKubeconfig(t *testing.T, c *framework.Cluster) {
	t.Helper()
	data, err := c.Kubeconfig()
	if err != nil {
		t.Fatalf("cluster %s: Kubeconfig() error: %v", c.Name, err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(data)
	if err != nil {
		t.Fatalf("cluster %s: failed to load kubeconfig: %v", c.Name, err)
	}
	if cfg.CAFile != "" || cfg.CertFile != "" || cfg.KeyFile != "" {
		t.Errorf("cluster %s: kubeconfig refers to files", c.Name)
	}
	cl, err := client.New(cfg, client.Options{Scheme: c.Scheme})
	if err != nil {
		t.Fatalf("cluster %s: failed to create client from kubeconfig: %v", c.Name, err)
	}
	var ns corev1.Namespace
	if err := cl.Get(t.Context(), client.ObjectKey{Name: "only-" + c.Name}, &ns); err != nil {
		t.Errorf("cluster %s: get through kubeconfig: %v", c.Name, err)
	}
}

// checkRepoCRDs verifies that every CRD under deploy/crds/ is established.
func checkRepoCRDs(t *testing.T, c *framework.Cluster) {
	t.Helper()
	root, err := framework.RepoRoot(".")
	if err != nil {
		t.Fatalf("RepoRoot() error: %v", err)
	}
	want, err := framework.LoadCRDDir(filepath.Join(root, filepath.FromSlash(framework.RepoCRDDir)))
	if err != nil {
		t.Logf("no repository CRDs to check: %v", err)
		return
	}
	for _, crd := range want {
		var got apiextensionsv1.CustomResourceDefinition
		if err := c.Client.Get(t.Context(), client.ObjectKey{Name: crd.Name}, &got); err != nil {
			t.Errorf("cluster %s: CRD %s not installed: %v", c.Name, crd.Name, err)
		}
	}
}

// checkUnreachable expects requests to a stopped cluster to fail quickly.
func checkUnreachable(t *testing.T, c *framework.Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var svc corev1.Service
	err := c.Client.Get(ctx, client.ObjectKey{Namespace: testNamespace, Name: serviceName}, &svc)
	if err == nil {
		t.Fatalf("cluster %s: get after Stop() succeeded, want an error", c.Name)
	}
	if c.Running() {
		t.Errorf("cluster %s: Running() = true after Stop()", c.Name)
	}
}

// checkUnprivilegedUser expects a user added without groups to be
// authenticated but forbidden.
func checkUnprivilegedUser(t *testing.T, c *framework.Cluster) {
	t.Helper()
	cfg, err := c.AddUser("nobody")
	if err != nil {
		t.Fatalf("cluster %s: AddUser() error: %v", c.Name, err)
	}
	cl, err := client.New(cfg, client.Options{Scheme: c.Scheme})
	if err != nil {
		t.Fatalf("cluster %s: failed to create client for nobody: %v", c.Name, err)
	}
	var ns corev1.Namespace
	err = cl.Get(t.Context(), client.ObjectKey{Name: testNamespace}, &ns)
	if !apierrors.IsForbidden(err) {
		t.Errorf("cluster %s: get as nobody error = %v, want Forbidden", c.Name, err)
	}
}
