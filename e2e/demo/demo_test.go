package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	hubapp "github.com/meshfed/meshfed/cmd/meshfed-hub/app"
	ctlapp "github.com/meshfed/meshfed/cmd/meshfedctl/app"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/e2e/framework"
)

// member is one demo member cluster: its network, region and zones.
type member struct {
	name, network, region string
	zones                 []string
}

var members = []member{
	{"east-1", "net-a", "us-east", []string{"us-east-1a", "us-east-1b"}},
	{"east-2", "net-a", "us-east", []string{"us-east-1c"}},
	{"west-1", "net-b", "us-west", []string{"us-west-1a"}},
}

// TestLocalFederation is the demo. Run it with make demo to see every step.
func TestLocalFederation(t *testing.T) {
	say := func(format string, args ...any) { fmt.Printf("\n==> "+format+"\n", args...) }
	names := []string{"hub"}
	for _, m := range members {
		names = append(names, m.name)
	}
	say("starting %d real API servers: %s", len(names), strings.Join(names, ", "))
	cs := framework.Start(t, len(names), framework.WithNames(names...), framework.WithScheme(meshfedv1.AddToScheme))
	kubeconfig := mergedKubeconfig(t, cs)

	for i, m := range members {
		say("meshfedctl join %s --network %s --region %s", m.name, m.network, m.region)
		ctl(t, "join", m.name, "--kubeconfig", kubeconfig, "--hub-context", "hub", "--member-context", m.name, "--network", m.network, "--region", m.region)
		populate(t, cs[i+1].Client, m, i+1)
	}

	storeURL := "http://" + freeAddr(t)
	say("starting meshfed-hub (embedded etcd at %s)", storeURL)
	startHub(t, cs[0], storeURL)

	waitFor(t, "every member ready and web federated from three clusters", func() bool {
		var gs meshfedv1.GlobalService
		err := cs[0].Client.Get(t.Context(), client.ObjectKey{Namespace: "shop", Name: "web"}, &gs)
		return err == nil && gs.Status.ClusterCount == 3 && gs.Status.ReadyEndpoints == 4
	})
	say("meshfedctl status")
	out := ctl(t, "status", "--kubeconfig", kubeconfig, "--context", "hub")
	mustContain(t, out, "east-1", "west-1", "True")
	say("meshfedctl get globalservices -A")
	out = ctl(t, "get", "globalservices", "-A", "--kubeconfig", kubeconfig, "--context", "hub")
	mustContain(t, out, "web.shop.mesh.internal")

	describe := []string{"describe", "globalservice", "shop/web", "--kubeconfig", kubeconfig, "--context", "hub", "--etcd-endpoints", storeURL, "--from", "east-1/us-east-1a"}
	say("meshfedctl describe globalservice shop/web --from east-1/us-east-1a  (PreferClose: the client's zone first)")
	out = ctl(t, describe...)
	mustContain(t, out, "Tier 0: load 100%, 1/1 healthy", "Tier 1: load 0%, 2/2 healthy", "Tier 2: load 0%, 1/1 healthy")

	say("the endpoints of zone us-east-1a stop being ready")
	setReady(t, cs[1].Client, false)
	waitFor(t, "the hub to see it", func() bool {
		var gs meshfedv1.GlobalService
		err := cs[0].Client.Get(t.Context(), client.ObjectKey{Namespace: "shop", Name: "web"}, &gs)
		return err == nil && gs.Status.ReadyEndpoints == 3
	})
	say("meshfedctl describe ... --from east-1/us-east-1a  (traffic fails over to the next tier)")
	out = ctl(t, describe...)
	mustContain(t, out, "Tier 0: load 0%, 0/1 healthy", "Tier 1: load 100%, 2/2 healthy", "Tier 2: load 0%")
	say("done: the hub, its store and the API servers stop now")
}

// populate gives a member Nodes per zone, and a global Service web with one endpoint per zone.
func populate(t *testing.T, c client.Client, m member, n int) {
	t.Helper()
	ctx := t.Context()
	must(t, c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}))
	must(t, c.Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Annotations: map[string]string{
			meshfedv1.ServiceScopeKey: "global", meshfedv1.TrafficDistributionKey: "PreferClose",
		}},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, AppProtocol: ptr("http")}}},
	}))
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "web-1", Namespace: "shop", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(8080))}},
	}
	for z, zone := range m.zones {
		node := fmt.Sprintf("%s-node-%d", m.name, z)
		must(t, c.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node, Labels: map[string]string{
			meshfedv1.RegionLabel: m.region, meshfedv1.ZoneLabel: zone,
		}}}))
		slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
			Addresses: []string{fmt.Sprintf("10.%d.%d.10", n, z)}, NodeName: ptr(node),
		})
	}
	must(t, c.Create(ctx, slice))
}

// setReady flips the readiness of east-1's endpoints in zone us-east-1a.
func setReady(t *testing.T, c client.Client, ready bool) {
	t.Helper()
	var s discoveryv1.EndpointSlice
	must(t, c.Get(t.Context(), client.ObjectKey{Namespace: "shop", Name: "web-1"}, &s))
	for i := range s.Endpoints {
		if s.Endpoints[i].NodeName != nil && *s.Endpoints[i].NodeName == "east-1-node-0" {
			s.Endpoints[i].Conditions.Ready = ptr(ready)
		}
	}
	must(t, c.Update(t.Context(), &s))
}

func startHub(t *testing.T, hub *framework.Cluster, storeURL string) {
	t.Helper()
	kc, err := hub.Kubeconfig()
	must(t, err)
	path := filepath.Join(t.TempDir(), "hub.kubeconfig")
	must(t, os.WriteFile(path, kc, 0o600))
	o := hubapp.DefaultOptions()
	o.Kubeconfig, o.DataDir, o.Identity = path, t.TempDir(), "demo-hub"
	o.EmbeddedClientURL, o.EmbeddedPeerURL = storeURL, "http://"+freeAddr(t)
	o.MetricsAddr, o.HealthAddr, o.ProbeInterval = "0", "0", time.Second
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- hubapp.Run(ctx, o, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("hub: %v", err)
		}
	})
}

// ctl runs meshfedctl in-process, echoing its output, and returns it.
func ctl(t *testing.T, args ...string) string {
	t.Helper()
	var buf bytes.Buffer
	out := io.MultiWriter(os.Stdout, &buf)
	if err := ctlapp.Run(t.Context(), cli.Streams{In: strings.NewReader(""), Out: out, ErrOut: out}, args); err != nil {
		t.Fatalf("meshfedctl %s: %v", strings.Join(args, " "), err)
	}
	return buf.String()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func mustContain(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func mergedKubeconfig(t *testing.T, cs []*framework.Cluster) string {
	t.Helper()
	merged := clientcmdapi.NewConfig()
	for _, c := range cs {
		data, err := c.Kubeconfig()
		must(t, err)
		cfg, err := clientcmd.Load(data)
		must(t, err)
		for k, v := range cfg.Clusters {
			merged.Clusters[k] = v
		}
		for k, v := range cfg.AuthInfos {
			merged.AuthInfos[k] = v
		}
		for k, v := range cfg.Contexts {
			merged.Contexts[k] = v
		}
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	must(t, clientcmd.WriteToFile(*merged, path))
	return path
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer l.Close()
	return l.Addr().String()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }
