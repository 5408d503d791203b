package app

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/hbone/pki"
)

// TestEmbeddedStoreAuthenticated runs the hub's default embedded store: it creates its CA
// Secret, serves mutual TLS only with etcd auth on, refuses anonymous clients, and gives the
// waypoint of a namespace and cluster it publishes an etcd user that reads that namespace only.
func TestEmbeddedStoreAuthenticated(t *testing.T) {
	env := startHubWith(t, func(o *Options) {
		o.EmbeddedInsecure = false
		o.EmbeddedClientURL = "https://" + freeAddr(t)
	}, "east-1")
	ctx := t.Context()
	var sec corev1.Secret
	if err := env.hub.Client.Get(ctx, client.ObjectKey{Namespace: env.opts.Namespace, Name: env.opts.CASecret}, &sec); err != nil {
		t.Fatalf("CA Secret: %v", err)
	}
	ca, err := pki.ParseCA(sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey], time.Now())
	if err != nil {
		t.Fatalf("CA Secret holds no CA: %v", err)
	}
	caFile := filepath.Join(env.opts.DataDir, "tls", "ca.crt")
	anon := store.ClientConfig{Endpoints: []string{env.opts.EmbeddedClientURL}, CAFile: caFile, DialTimeout: 2 * time.Second}
	if c, err := store.Connect(ctx, anon); err == nil {
		_ = c.Close()
		t.Fatal("an anonymous client connected to the embedded store")
	}
	plain := store.ClientConfig{Endpoints: []string{"http://" + env.opts.EmbeddedClientURL[len("https://"):]}, DialTimeout: 2 * time.Second}
	if c, err := store.Connect(ctx, plain); err == nil {
		_ = c.Close()
		t.Fatal("a plain HTTP client connected to the embedded store")
	}

	createWaypointService(t, env.members["east-1"].Client, "shop")
	createWaypointService(t, env.members["east-1"].Client, "other")
	wp := waypointClientConfig(t, ca, caFile, env.opts.EmbeddedClientURL, "shop", "east-1")
	var c *store.Client
	eventually(t, "waypoint user of shop in east-1", func() (bool, string) {
		var err error
		c, err = store.Connect(ctx, wp)
		return err == nil, fmt.Sprint(err)
	})
	defer c.Close()
	eventually(t, "shop's waypoints record readable", func() (bool, string) {
		l, err := c.List(ctx, store.NamespacePrefix("shop"))
		return err == nil && len(l.Waypoints()) == 1, fmt.Sprint(l.Entries, err)
	})
	eventually(t, "other's waypoints record published", func() (bool, string) {
		r, state := env.waypointsIn(t, "other", "east-1")
		return r != nil, state
	})
	if _, err := c.List(ctx, store.NamespacePrefix("other")); !store.IsPermissionDenied(err) {
		t.Fatalf("shop's waypoint lists other = %v, want permission denied", err)
	}
	if _, err := c.List(ctx, store.ClustersPrefix); !store.IsPermissionDenied(err) {
		t.Fatalf("shop's waypoint lists the clusters = %v, want permission denied", err)
	}
	forged := store.NewWriter(c, store.WriterOptions{Identity: "mallory", SessionTTL: 5})
	if err := forged.Campaign(ctx); !store.IsPermissionDenied(err) {
		t.Fatalf("shop's waypoint campaigns = %v, want permission denied", err)
	}
	if _, state := env.waypointsIn(t, "shop", "east-1"); state == "absent" {
		t.Fatal("the hub's own client cannot read the store")
	}
}

// createWaypointService creates namespace ns and the waypoint Service in it.
func createWaypointService(t *testing.T, c client.Client, ns string) {
	t.Helper()
	if err := c.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	createWaypointServiceIn(t, c, ns)
}

// createWaypointServiceIn creates the waypoint Service in the existing namespace ns.
func createWaypointServiceIn(t *testing.T, c client.Client, ns string) {
	t.Helper()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name: wellknown.WaypointName, Namespace: ns,
			Annotations: map[string]string{wellknown.HBONEAddressKey: "203.0.113.7:15008"},
		},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "hbone", Port: wellknown.HBONEPort, Protocol: corev1.ProtocolTCP}}},
	}
	if err := c.Create(t.Context(), svc); err != nil {
		t.Fatal(err)
	}
}

// waypointClientConfig is what a waypoint of ns in cluster connects with: a client certificate
// of the hub's CA naming its etcd user, and its namespace as scope.
func waypointClientConfig(t *testing.T, ca *pki.CA, caFile, endpoint, ns, cluster string) store.ClientConfig {
	t.Helper()
	p, err := ca.IssueClient(store.WaypointUser(ns, cluster), time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(cert, p.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, p.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return store.ClientConfig{
		Endpoints: []string{endpoint}, CAFile: caFile, CertFile: cert, KeyFile: key,
		Scope: store.NamespacePrefix(ns), DialTimeout: 2 * time.Second,
	}
}
