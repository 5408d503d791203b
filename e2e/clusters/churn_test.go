package clusters_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/e2e/clusters"
	"github.com/meshfed/meshfed/e2e/system"
	"github.com/meshfed/meshfed/federation/store"
)

// storeConfig is how the test reads the federation store: from the host, through the hub's
// NodePort on its node's transit address, with the store certificate the hub issued to the
// waypoints of namespace shop in cluster c (so it reads that namespace's records only).
func (m *mesh) storeConfig(t *testing.T, c *clusters.Cluster) store.ClientConfig {
	t.Helper()
	return m.storeConfigOf(t, c, shopNS, wellknown.WaypointStoreSecret, shopNS)
}

// storeConfigOf is storeConfig with the store certificate in Secret ns/secret of cluster c,
// scoped to the records of namespace scope.
func (m *mesh) storeConfigOf(t *testing.T, c *clusters.Cluster, ns, secret, scope string) store.ClientConfig {
	t.Helper()
	ctx := t.Context()
	port, err := m.set.Kubectl(ctx, m.c1, nil, "-n", "meshfed-system", "get", "service", "meshfed-hub",
		"-o", `jsonpath={.spec.ports[?(@.name=="etcd-client")].nodePort}`)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{}
	for _, key := range []string{"tls.crt", "tls.key", "ca.crt"} {
		out, err := m.set.Kubectl(ctx, c, nil, "-n", ns, "get", "secret", secret,
			"-o", "jsonpath={.data."+strings.ReplaceAll(key, ".", `\.`)+"}")
		if err != nil {
			t.Fatal(err)
		}
		pem, err := base64.StdEncoding.DecodeString(out)
		if err != nil || len(pem) == 0 {
			t.Fatalf("Secret %s/%s of %s: key %s is not base64 PEM (%v)", ns, secret, c.Name, key, err)
		}
		files[key] = filepath.Join(dir, key)
		if err := os.WriteFile(files[key], pem, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return store.ClientConfig{
		Endpoints: []string{"https://" + m.c1.TransitIP.String() + ":" + strings.TrimSpace(port)},
		CAFile:    files["ca.crt"], CertFile: files["tls.crt"], KeyFile: files["tls.key"],
		Scope:       store.NamespacePrefix(scope),
		DialTimeout: 2 * time.Second,
		// The store restarts with the hub's pod: the etcd client's retries are expected.
		Logger: slog.New(slog.DiscardHandler),
	}
}

// clientset is a client of cluster c's API server with its admin kubeconfig.
func (m *mesh) clientset(t *testing.T, c *clusters.Cluster) *kubernetes.Clientset {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", m.set.Kubeconfig(c))
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 50, 50
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// startChurn exports Service shop/churn (selector-less, so that only the churn writes its
// EndpointSlice) from member, waits until the store holds its first endpoint and starts
// changing it perSecond times per second with system.Churn, which measures how long each change
// takes to reach the store. The Service is removed when t ends.
func (m *mesh) startChurn(t *testing.T, member *clusters.Cluster, cfg store.ClientConfig, perSecond int) *system.Churn {
	t.Helper()
	return m.churnFrom(t, m.exportChurn(t, member), member, cfg, perSecond)
}

// exportChurn exports Service shop/churn from member (its client is cs) and removes it, with its
// EndpointSlice, when t ends.
func (m *mesh) exportChurn(t *testing.T, member *clusters.Cluster) *kubernetes.Clientset {
	t.Helper()
	cs := m.clientset(t, member)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: system.ChurnService, Namespace: shopNS, Labels: map[string]string{wellknown.ServiceScopeKey: "global"}},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
	}
	if _, err := cs.CoreV1().Services(shopNS).Create(t.Context(), svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, err := range []error{
			cs.CoreV1().Services(shopNS).Delete(ctx, system.ChurnService, metav1.DeleteOptions{}),
			cs.DiscoveryV1().EndpointSlices(shopNS).Delete(ctx, churnSlice, metav1.DeleteOptions{}),
		} {
			if err != nil && !apierrors.IsNotFound(err) {
				t.Errorf("failed to remove the churn's objects from %s: %v", member.Name, err)
			}
		}
	})
	return cs
}

// churnFrom sets the first endpoint of member's churn Service (exported with exportChurn, cs
// its client), waits until the store holds it and starts changing it perSecond times per second.
func (m *mesh) churnFrom(t *testing.T, cs *kubernetes.Clientset, member *clusters.Cluster, cfg store.ClientConfig, perSecond int) *system.Churn {
	t.Helper()
	ctx := t.Context()
	spec := system.ChurnSpec{
		Namespace: shopNS, Members: []string{member.Name}, Store: cfg, PerSecond: perSecond,
		SetAddress: func(ctx context.Context, _ int, addr string) error { return setChurnAddress(ctx, cs, addr) },
	}
	if err := setChurnAddress(ctx, cs, system.ChurnAddr(0, 0)); err != nil {
		t.Fatal(err)
	}
	err := poll(ctx, 2*time.Minute, func() error {
		st, err := store.Connect(ctx, cfg)
		if err != nil {
			return err
		}
		defer func() { _ = st.Close() }()
		l, err := st.List(ctx, store.ServiceEndpointsPrefix(shopNS, wellknown.DefaultSegmentDomain, system.ChurnService))
		if err != nil {
			return err
		}
		for _, r := range l.Endpoints() {
			if r.Cluster == member.Name && len(r.Endpoints) == 1 && r.Endpoints[0].Address == system.ChurnAddr(0, 0) {
				return nil
			}
		}
		return fmt.Errorf("the store holds no first endpoint of %s's %s", member.Name, system.ChurnService)
	})
	if err != nil {
		t.Fatalf("the churn's first endpoint did not reach the store: %v", err)
	}
	return system.StartChurn(t, spec)
}

// churnSlice is the EndpointSlice of the churn's Service.
const churnSlice = system.ChurnService + "-e2e"

// setChurnAddress creates or updates churnSlice to hold one ready endpoint at addr.
func setChurnAddress(ctx context.Context, cs *kubernetes.Clientset, addr string) error {
	port, name, ready := int32(8080), "http", true
	endpoints := []discoveryv1.Endpoint{{Addresses: []string{addr}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}}
	api := cs.DiscoveryV1().EndpointSlices(shopNS)
	cur, err := api.Get(ctx, churnSlice, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = api.Create(ctx, &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: churnSlice, Namespace: shopNS, Labels: map[string]string{discoveryv1.LabelServiceName: system.ChurnService}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: &name, Port: &port}},
			Endpoints:   endpoints,
		}, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	cur.Endpoints = endpoints
	_, err = api.Update(ctx, cur, metav1.UpdateOptions{})
	return err
}
