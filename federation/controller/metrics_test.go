package controller

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/e2e/framework"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/federation/store/embedded"
	"github.com/meshfed/meshfed/internal/testport"
)

// metricsEnv is a hub API server, one member "east-1", a real embedded store, and the hub's
// Members and Federation driven by hand (no manager, no loop), so every pass is the test's.
type metricsEnv struct {
	hub, member *framework.Cluster
	members     *Members
	fed         *Federation
}

// newMetricsEnv starts the clusters and the store and connects the member.
func newMetricsEnv(t *testing.T, probe, grace time.Duration) *metricsEnv {
	t.Helper()
	ctx := t.Context()
	cs := framework.Start(t, 2, framework.WithNames("hub", "east-1"), framework.WithScheme(meshfedv1.AddToScheme))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	emb, err := embedded.Start(ctx, embedded.Config{
		DataDir: t.TempDir(), ClientURL: "http://" + freeAddr(t), PeerURL: "http://" + freeAddr(t), Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	st, err := store.Connect(ctx, store.ClientConfig{Endpoints: emb.Endpoints(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	w := store.NewWriter(st, store.WriterOptions{Identity: "metrics-test", Logger: log})
	if err := w.Campaign(ctx); err != nil {
		t.Fatal(err)
	}
	e := &metricsEnv{hub: cs[0], member: cs[1]}
	e.fed = NewFederation(cs[0].Client, st, w, FederationOptions{Ports: DefaultPortRange}, log)
	e.members = NewMembers(cs[0].Client, MembersOptions{
		Namespace: wellknown.SystemNamespace, StaleGrace: grace, ProbeInterval: probe, SyncTimeout: time.Minute,
	}, log, e.fed.Trigger)
	t.Cleanup(e.members.Close)
	e.fed.SetMembers(e.members)
	e.addMember(t)
	return e
}

// addMember registers east-1 on the hub (Secret and MemberCluster) and reconciles it.
func (e *metricsEnv) addMember(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	kc, err := e.member.Kubeconfig()
	if err != nil {
		t.Fatal(err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: wellknown.SystemNamespace}}
	if err := e.hub.Client.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "member-east-1", Namespace: wellknown.SystemNamespace},
		Data:       map[string][]byte{"kubeconfig": kc},
	}
	mc := &meshfedv1.MemberCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "east-1"},
		Spec:       meshfedv1.MemberClusterSpec{Network: "net-0", KubeconfigSecretRef: meshfedv1.SecretKeyRef{Name: secret.Name}},
	}
	for _, obj := range []client.Object{secret, mc} {
		if err := e.hub.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.members.Reconcile(ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: "east-1"}}); err != nil {
		t.Fatal(err)
	}
}

// exportWeb creates shop/web, exported globally, with one endpoint at ip.
func (e *metricsEnv) exportWeb(t *testing.T, ip string) {
	t.Helper()
	ctx := t.Context()
	port, pname := int32(8080), "http"
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}},
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Annotations: map[string]string{wellknown.ServiceScopeKey: "global"}},
			Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
		},
		&discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: "web-1", Namespace: "shop", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: &pname, Port: &port}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{ip}}},
		},
	}
	for _, obj := range objs {
		if err := e.member.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
}

// moveWeb changes the address of web's endpoint in the member.
func (e *metricsEnv) moveWeb(t *testing.T, ip string) {
	t.Helper()
	var eps discoveryv1.EndpointSlice
	if err := e.member.Client.Get(t.Context(), client.ObjectKey{Namespace: "shop", Name: "web-1"}, &eps); err != nil {
		t.Fatal(err)
	}
	eps.Endpoints[0].Addresses = []string{ip}
	if err := e.member.Client.Update(t.Context(), &eps); err != nil {
		t.Fatal(err)
	}
}

// awaitObserved waits until the hub's cache of east-1 holds web's endpoint at ip and the
// informer handler has recorded a pending observation for east-1.
func (e *metricsEnv) awaitObserved(t *testing.T, ip string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if e.cachedAddress(t) == ip && pendingObservation(e.members) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("hub did not observe web at %s (cached %q)", ip, e.cachedAddress(t))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *metricsEnv) cachedAddress(t *testing.T) string {
	t.Helper()
	ms := e.members.List(time.Now())
	if len(ms) != 1 {
		t.Fatalf("connected members = %d, want 1", len(ms))
	}
	var eps discoveryv1.EndpointSlice
	if err := ms[0].Conn.Cluster().GetClient().Get(t.Context(), client.ObjectKey{Namespace: "shop", Name: "web-1"}, &eps); err != nil {
		return ""
	}
	return eps.Endpoints[0].Addresses[0]
}

func pendingObservation(m *Members) bool {
	m.pendingMu.Lock()
	defer m.pendingMu.Unlock()
	return len(m.pending) > 0
}

// counters is a reading of the hub's counters.
type counters struct {
	writes, bytes, ok, failed float64
	propagations              uint64
	propagationSum            float64
}

func readCounters(t *testing.T) counters {
	t.Helper()
	return counters{
		writes: value(t, storeWrites), bytes: value(t, storeBytesWritten),
		ok: value(t, federationPasses.WithLabelValues(passResultOK)), failed: value(t, federationPasses.WithLabelValues(passResultError)),
		propagations: histogramCount(t), propagationSum: histogramSum(t),
	}
}

// sub is c minus before.
func (c counters) sub(before counters) counters {
	return counters{
		writes: c.writes - before.writes, bytes: c.bytes - before.bytes, ok: c.ok - before.ok, failed: c.failed - before.failed,
		propagations: c.propagations - before.propagations, propagationSum: c.propagationSum - before.propagationSum,
	}
}

func histogramCount(t *testing.T) uint64 {
	t.Helper()
	return gatherHistogram(t).GetSampleCount()
}

func histogramSum(t *testing.T) float64 {
	t.Helper()
	return gatherHistogram(t).GetSampleSum()
}

// value reads a counter or gauge, as prometheus/testutil.ToFloat64 does (testutil needs
// github.com/kylelemons/godebug, which go.mod does not list yet).
func value(t *testing.T, c prometheus.Metric) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	}
	t.Fatalf("metric %s is neither a counter nor a gauge", c.Desc())
	return 0
}

// servedSeries counts the series of the named families that g serves.
func servedSeries(g prometheus.Gatherer, names ...string) (int, error) {
	families, err := g.Gather()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, f := range families {
		if slices.Contains(names, f.GetName()) {
			n += len(f.GetMetric())
		}
	}
	return n, nil
}

// gatherHistogram reads the propagation histogram.
func gatherHistogram(t *testing.T) *dto.Histogram {
	t.Helper()
	var m dto.Metric
	if err := propagationSeconds.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram()
}

// membersGauge counts the members in state: the members gauge summed over members.
func membersGauge(t *testing.T, state string) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 64)
	membersByState.Collect(ch)
	close(ch)
	sum := 0.0
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			t.Fatal(err)
		}
		for _, l := range d.GetLabel() {
			if l.GetName() == "state" && l.GetValue() == state {
				sum += d.GetGauge().GetValue()
			}
		}
	}
	return sum
}

func (e *metricsEnv) pass(t *testing.T, ctx context.Context) counters {
	t.Helper()
	before := readCounters(t)
	if err := e.fed.SyncOnce(ctx); err != nil && ctx.Err() == nil {
		t.Fatalf("federation pass: %v", err)
	}
	return readCounters(t).sub(before)
}

// TestMetricsFollowRealPasses drives real federation passes and checks what each one adds to
// the hub's metrics: writes proportional to the change, one propagation sample per observed
// member change, and a failed pass that keeps its observation for the next one.
func TestMetricsFollowRealPasses(t *testing.T) {
	// The members gauge is process-wide: forget the members of an earlier run of this test
	// (go test -count=N) before counting the series a fresh hub serves.
	membersByState.Reset()
	e := newMetricsEnv(t, time.Hour, time.Hour) // no probe during the test: LastSync stays put
	n, err := servedSeries(metrics.Registry, "meshfed_hub_propagation_seconds", "meshfed_hub_store_writes_total",
		"meshfed_hub_store_bytes_written_total", "meshfed_hub_members", "meshfed_hub_federation_passes_total")
	if err != nil || n != 5 { // 1 histogram, 2 counters, 2 results; the members gauge has no member yet
		t.Fatalf("metrics on the controller-runtime registry: %d series, %v; want 5", n, err)
	}

	e.exportWeb(t, "10.0.0.1")
	e.awaitObserved(t, "10.0.0.1")
	d := e.pass(t, t.Context())
	// A new member and a new service: the cluster record, the service record, east-1's endpoints.
	if d.writes != 3 || d.bytes <= 0 || d.ok != 1 || d.failed != 0 || d.propagations < 1 {
		t.Fatalf("first pass added %+v; want 3 writes, some bytes, 1 ok pass, ≥1 propagation", d)
	}
	if got := membersGauge(t, memberStateReady); got != 1 {
		t.Errorf("ready members = %v, want 1", got)
	}
	if got := value(t, membersByState.WithLabelValues("east-1", memberStateReady)); got != 1 {
		t.Errorf(`meshfed_hub_members{member="east-1",state="ready"} = %v, want 1`, got)
	}

	// The pass also wrote the derived Service back into east-1; let its event be closed.
	e.pass(t, t.Context())
	if d := e.pass(t, t.Context()); d.writes != 0 || d.bytes != 0 || d.ok != 1 {
		t.Fatalf("pass without change added %+v; want 0 writes, 0 bytes, 1 ok pass", d)
	}

	e.moveWeb(t, "10.0.0.2")
	e.awaitObserved(t, "10.0.0.2")
	d = e.pass(t, t.Context())
	if d.writes != 1 || d.bytes <= 0 || d.propagations != 1 || d.propagationSum <= 0 || d.propagationSum > 30 {
		t.Fatalf("endpoint change added %+v; want 1 write (east-1's endpoints), 1 propagation of (0, 30s]", d)
	}

	e.moveWeb(t, "10.0.0.3")
	e.awaitObserved(t, "10.0.0.3")
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	d = e.pass(t, cancelled)
	if d.failed != 1 || d.ok != 0 || d.writes != 0 || d.propagations != 0 || !pendingObservation(e.members) {
		t.Fatalf("failed pass added %+v; want 1 error pass, no writes, its observation kept", d)
	}
	d = e.pass(t, t.Context())
	if d.ok != 1 || d.writes != 1 || d.propagations != 1 {
		t.Fatalf("pass after a failed one added %+v; want 1 ok pass, 1 write, the kept propagation", d)
	}
}

// TestMembersGaugeFollowsReachability stops and restarts the member's API server and reads the
// members gauge after passes: ready, stale while unreachable, withdrawn after the grace, ready
// again once it is back.
func TestMembersGaugeFollowsReachability(t *testing.T) {
	e := newMetricsEnv(t, 100*time.Millisecond, 5*time.Second)
	want := func(state string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			e.pass(t, t.Context())
			if membersGauge(t, state) == 1 && membersGauge(t, memberStateReady)+membersGauge(t, memberStateStale)+membersGauge(t, memberStateWithdrawn) == 1 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("members gauge never showed one %s member: ready=%v stale=%v withdrawn=%v", state,
					membersGauge(t, memberStateReady), membersGauge(t, memberStateStale), membersGauge(t, memberStateWithdrawn))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	want(memberStateReady)
	stopped := make(chan error, 1)
	go func() { stopped <- e.member.Stop() }() // stopping takes seconds; the grace runs meanwhile
	want(memberStateStale)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	want(memberStateWithdrawn)
	if err := e.member.Restart(); err != nil {
		t.Fatal(err)
	}
	want(memberStateReady)
}

// freeAddr is a loopback address for a listener the test starts later, which no other socket
// takes meanwhile (internal/testport).
func freeAddr(t *testing.T) string {
	t.Helper()
	return testport.Addr(t, "127.0.0.1")
}
