package clusters_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"

	"github.com/meshfed/meshfed/e2e/clusters"
	"github.com/meshfed/meshfed/federation/store"
)

// haLease is the lease timing of the highly available hub here, as in e2e/scenarios'
// TestHandoverHA: short, so that the crash scenario is quick. A crash's bound is the lease
// duration plus one second.
var haLease = map[string]string{
	"--leader-elect-lease-duration": "4s",
	"--leader-elect-renew-deadline": "3s",
	"--leader-elect-retry-period":   "1s",
}

const haLeaseDuration = 4 * time.Second

// etcdClientSecret is the Secret deploy/hub mounts as the hub's etcd client credentials.
const etcdClientSecret = "meshfed-etcd-client"

// install replaces the hub with its embedded store (deploy/hub-embedded) on cluster-1 by the
// highly available one (deploy/hub), as a user following the README would: an etcd of their
// own (here a single member, manifests/etcd.yaml) serving mutual TLS at
// meshfed-etcd.meshfed-system.svc:2379, its users and roles created as root and auth enabled
// (federation/store's README, "Access"), the hub's client certificate in the Secret
// meshfed-etcd-client, and deploy/hub through an overlay that sets the lease flags. It waits
// until both replicas are ready, one holds the Lease and every member is Ready again, and
// returns how the test reads the store: from the host through the etcd's NodePort, as the
// waypoint user of namespace shop (which reads that namespace only). When the clusters stay
// after the tests, the embedded hub is put back at the end.
func (m *haHub) install(t *testing.T) store.ClientConfig {
	t.Helper()
	ctx := t.Context()
	start := time.Now()
	hub := m.c1
	// Leftovers of an interrupted run would keep their old certificates.
	m.kubectl(t, "-n", clusters.EtcdNamespace, "delete", "statefulset,service,secret", "-l", "app.kubernetes.io/name="+clusters.EtcdService,
		"--ignore-not-found", "--wait", "--timeout=2m")
	image, err := m.set.EtcdImage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.set.LoadImagesInto(ctx, hub, image); err != nil {
		t.Fatal(err)
	}
	pki, err := clusters.NewEtcdPKI()
	if err != nil {
		t.Fatal(err)
	}
	manifests, err := pki.EtcdManifests(hub, image)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.removeEtcd(t) })
	if err := m.set.Apply(ctx, hub, "", string(manifests)); err != nil {
		t.Fatal(err)
	}
	m.kubectl(t, "-n", clusters.EtcdNamespace, "rollout", "status", "statefulset/"+clusters.EtcdService, "--timeout=2m")
	port := m.nodePort(t, clusters.EtcdService, "client")
	endpoint := "https://" + hub.TransitIP.String() + ":" + port
	dir := t.TempDir()
	root := etcdClient(t, pki, store.RootUser, endpoint, dir, store.Root)
	err = poll(ctx, time.Minute, func() error {
		st, err := store.Connect(ctx, root)
		if err != nil {
			return err
		}
		defer func() { _ = st.Close() }()
		if err := st.EnableAccess(ctx); err != nil {
			return err
		}
		return st.EnsureWaypointUser(ctx, shopNS, hub.Name)
	})
	if err != nil {
		t.Fatalf("failed to set up the etcd's users and turn its auth on: %v", err)
	}
	cert, key, err := pki.ClientCert(store.HubUser)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.set.Apply(ctx, hub, "", clusters.TLSSecret(clusters.EtcdNamespace, etcdClientSecret, pki.CA(), cert, key)); err != nil {
		t.Fatal(err)
	}
	t.Logf("etcd %s ready at %s (%s), access enabled, in %s", image, endpoint, "meshfed-etcd.meshfed-system.svc:2379", time.Since(start).Round(100*time.Millisecond))

	// The hub: the embedded one goes (with its pod, so that it releases the Lease), the HA one
	// comes. The embedded store's NodePort is kept to be given back when the hub is restored.
	storePort := m.nodePort(t, "meshfed-hub", "etcd-client")
	t.Cleanup(func() { m.restoreEmbeddedHub(t, storePort) })
	m.kubectl(t, "-n", "meshfed-system", "delete", "deployment", "meshfed-hub", "--cascade=foreground", "--timeout=2m")
	replaced := time.Now()
	m.kubectl(t, "apply", "-k", haOverlay(t, m.user.root))
	m.kubectl(t, "-n", "meshfed-system", "rollout", "status", "deployment/meshfed-hub", "--timeout=3m")
	if err := m.awaitReplicas(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*clusters.Cluster{m.c1, m.c2, m.c3} {
		err := poll(ctx, 2*time.Minute, func() error {
			got, err := m.memberReady(ctx, c)
			if err == nil && !strings.HasPrefix(got, "True") {
				err = fmt.Errorf("Ready %q", got)
			}
			return err
		})
		if err != nil {
			t.Fatalf("MemberCluster %s is not Ready under the HA hub: %v", c.Name, err)
		}
	}
	leader, _, err := m.hubLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("deploy/hub rolled out, %s leads, every member Ready, %s after the embedded hub was deleted",
		leader, time.Since(replaced).Round(100*time.Millisecond))
	return etcdClient(t, pki, store.WaypointUser(shopNS, hub.Name), endpoint, dir, store.NamespacePrefix(shopNS))
}

// haOverlay writes a kustomization of deploy/hub (of the repository at root) whose patch sets
// the hub's lease flags to haLease, and returns its directory. The patch carries deploy/hub's
// whole argument list (a strategic merge replaces a list of strings), read from its
// Deployment, which must let a standby run through a rolling update (maxUnavailable 0,
// maxSurge 1).
func haOverlay(t *testing.T, root string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "deploy", "hub", "deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	if err := yaml.Unmarshal(raw, &d); err != nil {
		t.Fatalf("failed to parse deploy/hub's Deployment: %v", err)
	}
	if ru := d.Spec.Strategy.RollingUpdate; ru == nil || ru.MaxUnavailable.String() != "0" || ru.MaxSurge.String() != "1" {
		t.Fatalf("deploy/hub's Deployment rolls out with %+v, want maxUnavailable 0 and maxSurge 1", d.Spec.Strategy)
	}
	args, err := withFlags(d.Spec.Template.Spec.Containers[0].Args, haLease)
	if err != nil {
		t.Fatal(err)
	}
	patch, err := yaml.Marshal(map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": d.Name, "namespace": d.Namespace},
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
			"containers": []any{map[string]any{"name": d.Spec.Template.Spec.Containers[0].Name, "args": args}},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	base, err := filepath.Rel(dir, filepath.Join(root, "deploy", "hub"))
	if err != nil {
		t.Fatal(err)
	}
	kustomization := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - " + base +
		"\npatches:\n  - path: lease.yaml\n"
	for name, data := range map[string][]byte{"kustomization.yaml": []byte(kustomization), "lease.yaml": patch} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// withFlags returns args with the value of each --flag=value in set replaced; every flag of set
// must be there.
func withFlags(args []string, set map[string]string) ([]string, error) {
	out := make([]string, 0, len(args))
	found := 0
	for _, a := range args {
		name, _, _ := strings.Cut(a, "=")
		if v, ok := set[name]; ok {
			a = name + "=" + v
			found++
		}
		out = append(out, a)
	}
	if found != len(set) {
		return nil, fmt.Errorf("the hub's arguments %q do not hold each of %v once", args, set)
	}
	return out, nil
}

// etcdClient issues a client certificate of pki for etcd user user into dir and returns the
// configuration that reads scope from endpoint with it.
func etcdClient(t *testing.T, pki *clusters.EtcdPKI, user, endpoint, dir, scope string) store.ClientConfig {
	t.Helper()
	cert, key, err := pki.ClientCert(user)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.ReplaceAll(user, ":", "-")
	cfg := store.ClientConfig{
		Endpoints: []string{endpoint}, Scope: scope, DialTimeout: 2 * time.Second,
		// The churn's store connections are cut by each handover: the etcd client's retries are expected.
		Logger: slog.New(slog.DiscardHandler),
		CAFile: filepath.Join(dir, "ca.crt"), CertFile: filepath.Join(dir, name+".crt"), KeyFile: filepath.Join(dir, name+".key"),
	}
	for file, data := range map[string][]byte{cfg.CAFile: pki.CA(), cfg.CertFile: cert, cfg.KeyFile: key} {
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return cfg
}

// restoreEmbeddedHub puts deploy/hub-embedded back in place of deploy/hub when the clusters
// stay after the tests (MESHFED_KEEP_CLUSTERS, or found running), with its store on the same
// NodePort as before, so that the waypoints read it again.
func (m *mesh) restoreEmbeddedHub(t *testing.T, storePort string) {
	if m.set.Created && os.Getenv("MESHFED_KEEP_CLUSTERS") == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	for _, args := range [][]string{
		{"-n", "meshfed-system", "delete", "deployment,poddisruptionbudget", "meshfed-hub", "--ignore-not-found", "--cascade=foreground", "--timeout=2m"},
		{"-n", "meshfed-system", "delete", "secret", etcdClientSecret, "--ignore-not-found"},
	} {
		if _, err := m.set.Kubectl(ctx, m.c1, nil, args...); err != nil {
			t.Errorf("failed to remove deploy/hub: %v", err)
			return
		}
	}
	if err := applyEmbeddedHub(ctx, m.set, m.c1, m.user.root); err != nil {
		t.Errorf("failed to restore deploy/hub-embedded: %v", err)
		return
	}
	patch := `{"spec":{"ports":[{"name":"etcd-client","port":2379,"nodePort":` + storePort + `}]}}`
	if _, err := m.set.Kubectl(ctx, m.c1, nil, "-n", "meshfed-system", "patch", "service", "meshfed-hub", "-p", patch); err != nil {
		t.Errorf("failed to give the embedded store its NodePort %s back: %v", storePort, err)
	}
}

// removeEtcd removes the etcd of haHub.install.
func (m *mesh) removeEtcd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := m.set.Kubectl(ctx, m.c1, nil, "-n", clusters.EtcdNamespace, "delete", "statefulset,service,secret",
		"-l", "app.kubernetes.io/name="+clusters.EtcdService, "--ignore-not-found", "--wait=false"); err != nil {
		t.Errorf("failed to remove the etcd: %v", err)
	}
}

// kubectl runs kubectl on the hub cluster and fails the test on error.
func (m *mesh) kubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := m.set.Kubectl(t.Context(), m.c1, nil, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// nodePort is the NodePort of port name of Service meshfed-system/svc on the hub cluster.
func (m *mesh) nodePort(t *testing.T, svc, name string) string {
	t.Helper()
	port := strings.TrimSpace(m.kubectl(t, "-n", "meshfed-system", "get", "service", svc,
		"-o", `jsonpath={.spec.ports[?(@.name=="`+name+`")].nodePort}`))
	if port == "" {
		t.Fatalf("Service meshfed-system/%s has no NodePort %s", svc, name)
	}
	return port
}
