package deploy_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	hub "github.com/meshfed/meshfed/cmd/meshfed-hub/app"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/membership"
	"github.com/meshfed/meshfed/e2e/framework"
	"github.com/meshfed/meshfed/internal/syncbuf"
	"github.com/meshfed/meshfed/internal/testport"
)

// TestHubRunsWithItsRBAC runs the real hub, configured by deploy/hub-embedded's arguments, as the
// ServiceAccount of deploy/hub with exactly the RBAC deploy/hub grants it, and checks that it does
// its whole job on the hub cluster: leader election, reading the member's kubeconfig Secret,
// MemberCluster status, creating the namespace and the GlobalService mirror with its status. A
// missing permission shows up as a hub that never gets there; its forbidden errors are printed.
func TestHubRunsWithItsRBAC(t *testing.T) {
	cs := framework.Start(t, 2, framework.WithNames("hub", "east-1"), framework.WithScheme(meshfedv1.AddToScheme))
	hubCluster, east := cs[0], cs[1]
	ctx := t.Context()
	for _, obj := range render(t, "hub") {
		switch obj.GetKind() {
		case "Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding":
			if err := hubCluster.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner("meshfed-deploy-test")); err != nil {
				t.Fatalf("apply %s %s: %v", obj.GetKind(), obj.GetName(), err)
			}
		}
	}
	join(t, hubCluster, east)
	exportService(t, east.Client, "shop", "web")

	o := hubOptions(t, hubCluster)
	var logs syncbuf.Buffer
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- hub.Run(runCtx, o, slog.New(slog.NewTextHandler(&logs, nil))) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("hub: %v", err)
		}
		if strings.Contains(strings.ToLower(logs.String()), "forbidden") {
			t.Error("the hub was refused something deploy/hub should grant it")
		}
		if t.Failed() {
			for _, line := range strings.Split(logs.String(), "\n") {
				if strings.Contains(strings.ToLower(line), "forbidden") {
					t.Log(line)
				}
			}
		}
	}()

	waitFor(t, "MemberCluster east-1 Ready and GlobalService shop/web mirrored with status", func() bool {
		var mc meshfedv1.MemberCluster
		var gs meshfedv1.GlobalService
		return hubCluster.Client.Get(ctx, client.ObjectKey{Name: "east-1"}, &mc) == nil &&
			meta.IsStatusConditionTrue(mc.Status.Conditions, string(meshfedv1.MemberClusterConditionReady)) &&
			hubCluster.Client.Get(ctx, client.ObjectKey{Namespace: "shop", Name: "web"}, &gs) == nil &&
			len(gs.Status.Conditions) > 0
	})
}

// hubOptions parses deploy/hub-embedded's arguments with the hub's own flags, then points the
// hub at the test's API server as the deploy/hub ServiceAccount, and moves the store's data and
// ports to the test's own (keeping the all-interfaces client address of the Deployment).
func hubOptions(t *testing.T, hubCluster *framework.Cluster) hub.Options {
	t.Helper()
	o := hub.DefaultOptions()
	fs := pflag.NewFlagSet("meshfed-hub", pflag.ContinueOnError)
	o.AddFlags(fs)
	dep := deploymentOf(t, "hub-embedded", "meshfed-hub")
	if err := fs.Parse(expand(t, dep.Spec.Template.Spec.Containers[0])); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(o.EmbeddedClientURL, "https://0.0.0.0:") {
		t.Fatalf("deploy/hub-embedded's etcd client URL %s is not on all interfaces", o.EmbeddedClientURL)
	}
	o.Kubeconfig = serviceAccountKubeconfig(t, hubCluster, dep.Namespace, dep.Spec.Template.Spec.ServiceAccountName)
	checkLeaseAccess(t, o.Kubeconfig, dep.Namespace)
	o.DataDir = t.TempDir()
	o.EmbeddedClientURL = "https://0.0.0.0:" + freePort(t)
	o.EmbeddedPeerURL = "http://127.0.0.1:" + freePort(t)
	o.MetricsAddr, o.HealthAddr = "0", "0"
	o.ProbeInterval, o.Resync = 300*time.Millisecond, 2*time.Second
	return o
}

// serviceAccountKubeconfig writes a kubeconfig that acts as the ServiceAccount ns/name (the admin
// user impersonates it), so the API server applies that ServiceAccount's RBAC only.
func serviceAccountKubeconfig(t *testing.T, c *framework.Cluster, ns, name string) string {
	t.Helper()
	data, err := c.Kubeconfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, auth := range cfg.AuthInfos {
		auth.Impersonate = "system:serviceaccount:" + ns + ":" + name
		auth.ImpersonateGroups = []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	// The impersonated identity must not be allowed more than deploy/hub grants it.
	restCfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	checkForbidden(t, restCfg)
	return path
}

// checkLeaseAccess: the hub's identity may watch its own Lease (the standby's wake-up when the
// leader releases it), by name only. The hub would still work without the watch (it also
// polls), so only this check shows that the grant is right.
func checkLeaseAccess(t *testing.T, kubeconfig, ns string) {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	leases := cs.CoordinationV1().Leases(ns)
	byName := metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", wellknown.HubLeaseName).String()}
	w, err := leases.Watch(t.Context(), byName)
	if err != nil {
		t.Fatalf("the hub's ServiceAccount cannot watch its Lease: %v", err)
	}
	w.Stop()
	if _, err := leases.List(t.Context(), byName); err != nil {
		t.Fatalf("the hub's ServiceAccount cannot list its Lease: %v", err)
	}
	if _, err := leases.List(t.Context(), metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("the hub's ServiceAccount lists every Lease of %s: err = %v, want forbidden", ns, err)
	}
}

// checkForbidden: the hub's identity cannot read Secrets outside its namespace.
func checkForbidden(t *testing.T, cfg *rest.Config) {
	t.Helper()
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.List(t.Context(), &corev1.SecretList{}, client.InNamespace("default")); err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Errorf("the hub's ServiceAccount lists Secrets in default: err = %v, want forbidden", err)
	}
}

func join(t *testing.T, hubCluster, m *framework.Cluster) {
	t.Helper()
	hubClient, err := membership.NewClient(hubCluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	memberClient, err := membership.NewClient(m.Config)
	if err != nil {
		t.Fatal(err)
	}
	sides := membership.Sides{Hub: hubClient, Member: memberClient, MemberConfig: m.Config, TokenTTL: time.Hour, VerifyTimeout: 30 * time.Second}
	opts := membership.Options{Name: m.Name, Network: "net-a", Segment: wellknown.DefaultSegment, HubNamespace: wellknown.SystemNamespace}
	if err := membership.Join(t.Context(), sides, opts, &bytes.Buffer{}); err != nil {
		t.Fatalf("join %s: %v", m.Name, err)
	}
}

// exportService creates ns/name with scope global and one ready endpoint.
func exportService(t *testing.T, c client.Client, ns, name string) {
	t.Helper()
	ctx := t.Context()
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: map[string]string{wellknown.ServiceScopeKey: string(meshfedv1.ServiceScopeGlobal)}},
			Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
		},
		&discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: name + "-1", Namespace: ns, Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080)}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.1.0.1"}}},
		},
	}
	for _, obj := range objs {
		if err := c.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// freePort is a loopback port for a listener the test starts later, which no other socket
// takes meanwhile (internal/testport).
func freePort(t *testing.T) string {
	t.Helper()
	return strconv.Itoa(testport.TCP(t, "127.0.0.1"))
}
