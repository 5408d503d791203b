package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/e2e/framework"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/internal/syncbuf"
	"github.com/meshfed/meshfed/internal/testport"
)

// hubEnv is a hub API server, member API servers joined to it, a running hub and a store
// reader.
type hubEnv struct {
	hub     *framework.Cluster
	members map[string]*framework.Cluster
	store   *store.Client
	opts    Options
	stop    func()
	// log holds the hub's log at Info and above, across restarts, for tests that wait for
	// something only the log shows.
	log syncbuf.Buffer
}

// startHub starts a hub API server and members, joins them and runs the hub with defaults
// tuned for tests.
func startHub(t *testing.T, memberNames ...string) *hubEnv {
	t.Helper()
	return startHubWith(t, nil, memberNames...)
}

// startHubWith is startHub with a hook to change the hub's options.
func startHubWith(t *testing.T, tune func(*Options), memberNames ...string) *hubEnv {
	t.Helper()
	names := append([]string{"hub"}, memberNames...)
	cs := framework.Start(t, len(names), framework.WithNames(names...), framework.WithScheme(meshfedv1.AddToScheme))
	env := &hubEnv{hub: cs[0], members: map[string]*framework.Cluster{}}
	for i, m := range cs[1:] {
		env.members[m.Name] = m
		join(t, cs[0], m, fmt.Sprintf("net-%d", i))
	}
	kc, err := cs[0].Kubeconfig()
	if err != nil {
		t.Fatal(err)
	}
	kcPath := filepath.Join(t.TempDir(), "hub.kubeconfig")
	if err := os.WriteFile(kcPath, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	o := DefaultOptions()
	o.Kubeconfig, o.DataDir, o.Identity = kcPath, t.TempDir(), "hub-test"
	o.EmbeddedClientURL, o.EmbeddedPeerURL = "http://"+freeAddr(t), "http://"+freeAddr(t)
	o.EmbeddedInsecure = true // TestEmbeddedStoreAuthenticated runs the authenticated default
	o.EmbeddedStopWait = 0    // tests restart hubs in this process on the same data dir and ports
	o.MetricsAddr, o.HealthAddr = "0", "0"
	o.ProbeInterval, o.Resync = 300*time.Millisecond, 2*time.Second
	if tune != nil {
		tune(&o)
	}
	env.opts = o
	env.startHubProcess(t)
	if !o.EmbeddedInsecure {
		eventually(t, "hub certificates written", func() (bool, string) {
			_, err := os.Stat(filepath.Join(o.DataDir, "tls", "hub.key"))
			return err == nil, fmt.Sprint(err)
		})
	}
	st, err := store.Connect(t.Context(), hubClientConfig(o))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	env.store = st
	return env
}

// hubClientConfig connects to the hub's embedded etcd as the hub does: anonymously when it is
// insecure, else with the meshfed-hub certificate the hub wrote into its data dir.
func hubClientConfig(o Options) store.ClientConfig {
	cfg := store.ClientConfig{Endpoints: []string{o.EmbeddedClientURL}, DialTimeout: 10 * time.Second}
	if !o.EmbeddedInsecure {
		dir := filepath.Join(o.DataDir, "tls")
		cfg.CAFile, cfg.CertFile, cfg.KeyFile = filepath.Join(dir, "ca.crt"), filepath.Join(dir, "hub.crt"), filepath.Join(dir, "hub.key")
	}
	return cfg
}

// startHubProcess runs the hub (embedded etcd included) until stopHub or the end of the test.
func (e *hubEnv) startHubProcess(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	level := slog.LevelWarn
	if os.Getenv("MESHFED_TEST_LOG") == "debug" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewMultiHandler(
		slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}),
		slog.NewTextHandler(&e.log, &slog.HandlerOptions{Level: slog.LevelInfo}),
	))
	go func() { done <- Run(ctx, e.opts, log) }()
	stopped := false
	e.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("hub: %v", err)
			}
		case <-time.After(30 * time.Second):
			var dump strings.Builder
			_ = pprof.Lookup("goroutine").WriteTo(&dump, 1)
			t.Errorf("hub did not stop within 30s; goroutines:\n%s", dump.String())
		}
	}
	t.Cleanup(e.stop)
}

// connections counts the hub's "member connected" log lines for a member so far: each is a
// connection swapped in with its caches synced.
func (e *hubEnv) connections(member string) int {
	return strings.Count(e.log.String(), `msg="member connected" member=`+member+" ")
}

// join joins m to the hub through the CLI's code path, in the default segment.
func join(t *testing.T, hub, m *framework.Cluster, network string) {
	t.Helper()
	joinSegment(t, hub, m, network, wellknown.DefaultSegment)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// freeAddr is a loopback address for a listener the test starts later, which no other socket
// takes meanwhile (internal/testport).
func freeAddr(t *testing.T) string {
	t.Helper()
	return testport.Addr(t, "127.0.0.1")
}

// export creates (or updates) a Service with a scope annotation and an EndpointSlice with one
// address per ip.
func export(t *testing.T, c client.Client, ns, name, scope string, ips ...string) {
	t.Helper()
	ctx := t.Context()
	_ = c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	if err := c.Get(ctx, client.ObjectKeyFromObject(svc), svc); err != nil {
		svc.Spec.Ports = []corev1.ServicePort{{Name: "http", Port: 80}}
		svc.Annotations = map[string]string{wellknown.ServiceScopeKey: scope}
		if err := c.Create(ctx, svc); err != nil {
			t.Fatal(err)
		}
	} else {
		svc.Annotations = map[string]string{wellknown.ServiceScopeKey: scope}
		if scope == "" {
			svc.Annotations = nil
		}
		if err := c.Update(ctx, svc); err != nil {
			t.Fatal(err)
		}
		return
	}
	port, pname := int32(8080), "http"
	eps := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: name + "-1", Namespace: ns, Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &pname, Port: &port}},
	}
	for _, ip := range ips {
		eps.Endpoints = append(eps.Endpoints, discoveryv1.Endpoint{Addresses: []string{ip}})
	}
	if err := c.Create(ctx, eps); err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond every 100ms for up to 60s.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; last state: %s", what, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// endpointClusters lists the clusters with an endpoints key for a service.
func (e *hubEnv) endpointClusters(t *testing.T, ns, name string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	l, err := e.store.List(ctx, store.ServiceEndpointsPrefix(ns, "mesh.internal", name))
	if err != nil {
		// The store may be restarting or slow on a loaded machine; callers poll, and a
		// comparison fails with the error in its message.
		return []string{"store error: " + err.Error()}
	}
	var out []string
	for _, r := range l.Endpoints() {
		out = append(out, r.Cluster)
	}
	slices.Sort(out)
	return out
}

func (e *hubEnv) service(t *testing.T, ns, name string) (*store.ServiceRecord, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	entry, ok, err := e.store.Get(ctx, store.ServiceKey(ns, "mesh.internal", name))
	if err != nil {
		return nil, false // the store may be restarting; callers poll
	}
	if !ok {
		return nil, false
	}
	return entry.Record.(*store.ServiceRecord), true
}

func importers(r *store.ServiceRecord) []string {
	var out []string
	for _, imp := range r.Imports {
		out = append(out, imp.Cluster)
	}
	return out
}

func readyCondition(t *testing.T, c client.Client, name string) string {
	t.Helper()
	var mc meshfedv1.MemberCluster
	if err := c.Get(t.Context(), client.ObjectKey{Name: name}, &mc); err != nil {
		return err.Error()
	}
	if cond := meta.FindStatusCondition(mc.Status.Conditions, string(meshfedv1.MemberClusterConditionReady)); cond != nil {
		return string(cond.Status)
	}
	return "unset"
}
