package system

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/store"
)

// pollInterval is how often a Churn reads the store: it adds at most this much to a measured
// propagation time.
const pollInterval = 25 * time.Millisecond

// The services a Churn changes (ChurnService's EndpointSlice) and, with Federation.StartChurn,
// exports beside it in every member (steadyService's never changes).
const (
	ChurnService  = "churn"
	steadyService = "steady"
)

// Churn changes the EndpointSlice of the service "churn" in the members, one member after the
// other at a fixed total rate, and measures how long each change takes to reach the federation
// store. Change n of a member gives its endpoint an address that encodes n (ChurnAddr), so
// whatever the store shows names the latest change it holds; a change counts as arrived when
// the store shows it or a later one of the same member (the hub may fold several into one
// write).
//
// The store is read every pollInterval on a connection of the Churn's own, reopened at once
// when the store restarts (with the embedded store, the hub's restart restarts it), so the
// measurement does not wait for a client's reconnection backoff.
type Churn struct {
	t        testing.TB
	spec     ChurnSpec
	interval time.Duration
	// losses, when set, reports the store keys deleted or lost while the Churn ran.
	losses func() (deleted, lost []string)
	// stopWrites and stopPolls end the two goroutines, which close their done channels.
	stopWrites, stopPolls chan struct{}
	writesDone, pollsDone chan struct{}

	mu       sync.Mutex
	sent     [][]time.Time // per member, when change n was sent (index n)
	arrived  [][]time.Time // per member, when change n was first seen in the store
	failures []string      // changes a member's API server refused
}

// ChurnSpec is where a Churn makes its changes and how it reads the store: the e2e federation's
// members (Federation.StartChurn), or real clusters' (e2e/clusters).
type ChurnSpec struct {
	// Namespace holds the Service ChurnService in every member.
	Namespace string
	// Members are the members' cluster names; member i's changes are ChurnAddr(i, n).
	Members []string
	// SetAddress makes member i's EndpointSlice of ChurnService hold one ready endpoint at addr.
	SetAddress func(ctx context.Context, i int, addr string) error
	// Store reads the store, at least ChurnService's records in Namespace.
	Store store.ClientConfig
	// PerSecond is the total rate of changes.
	PerSecond int
}

// ChurnReport is what a Churn measured.
type ChurnReport struct {
	// Changes were made and reached the store; Failed were refused by a member's API server
	// (not counted in Changes); Missing were made but never seen in the store.
	Changes, Failed, Missing int
	// Max is the longest time a change took to reach the store: the propagation gap. MaxAt is
	// when that change was made.
	Max   time.Duration
	MaxAt time.Time
	// Median is the median time to reach the store.
	Median time.Duration
	// Deleted are the store keys deleted while the Churn ran (none should be).
	Deleted []string
	// Lost are keys the store held when the Churn started and no longer holds (none should be).
	Lost []string
}

func (r ChurnReport) String() string {
	return fmt.Sprintf("%d changes: max %v (made at %s), median %v; %d failed, %d missing, %d keys deleted, %d lost",
		r.Changes, r.Max.Round(time.Millisecond), r.MaxAt.Format("15:04:05.000"), r.Median.Round(time.Millisecond),
		r.Failed, r.Missing, len(r.Deleted), len(r.Lost))
}

// StartChurn exports churn and steady in namespace ns of every member, waits until the store
// holds both, and starts changing churn's EndpointSlice perSecond times per second in total.
// Stop also reports the store keys of ns and of the clusters deleted or lost meanwhile.
func (f *Federation) StartChurn(ns string, perSecond int) *Churn {
	f.t.Helper()
	spec := ChurnSpec{Namespace: ns, Store: f.StoreClientConfig(), PerSecond: perSecond,
		SetAddress: func(_ context.Context, i int, addr string) error {
			return f.setSliceAddress(f.Members[i], ns, ChurnService, addr)
		}}
	for i, m := range f.Members {
		f.exportFixed(m, ns, steadyService, ChurnAddr(i, 0xffff))
		f.exportFixed(m, ns, ChurnService, ChurnAddr(i, 0))
		spec.Members = append(spec.Members, m.Name)
	}
	st, err := f.ConnectStore()
	if err != nil {
		f.t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	f.Eventually("the churn's initial state in the store", 60*time.Second, func() (bool, string) {
		l, err := st.List(f.t.Context(), store.NamespacePrefix(ns))
		if err != nil {
			return false, err.Error()
		}
		return len(l.Endpoints()) == 2*len(f.Members), fmt.Sprintf("%d endpoints records", len(l.Endpoints()))
	})
	fromRev, err := st.Revision(f.t.Context())
	if err != nil {
		f.t.Fatal(err)
	}
	prefixes := []string{store.NamespacePrefix(ns), store.ClustersPrefix}
	keys := StoreKeys(f.t, st, prefixes...)
	c := StartChurn(f.t, spec)
	c.losses = func() (deleted, lost []string) {
		return StoreLosses(f.t, f.StoreClientConfig(), store.Root, fromRev, keys, prefixes...)
	}
	return c
}

// StartChurn starts changing ChurnService's EndpointSlice in the members of spec. Every
// member's change 0 (ChurnAddr(i, 0)) must be in the store already.
func StartChurn(t testing.TB, spec ChurnSpec) *Churn {
	c := &Churn{
		t: t, spec: spec, interval: time.Second / time.Duration(spec.PerSecond),
		stopWrites: make(chan struct{}), stopPolls: make(chan struct{}), writesDone: make(chan struct{}), pollsDone: make(chan struct{}),
	}
	now := time.Now()
	for range spec.Members {
		c.sent = append(c.sent, []time.Time{now})
		c.arrived = append(c.arrived, []time.Time{now})
	}
	go c.poll()
	go c.write()
	return c
}

// Stop stops the changes, waits up to a minute for the last ones to reach the store, and
// reports. A Churn of Federation.StartChurn also replays the store's history since the start
// for deleted keys.
func (c *Churn) Stop() ChurnReport {
	c.t.Helper()
	close(c.stopWrites)
	<-c.writesDone
	deadline := time.Now().Add(time.Minute)
	c.mu.Lock()
	last := make([]int, len(c.sent))
	for i := range c.sent {
		last[i] = len(c.sent[i]) - 1
	}
	c.mu.Unlock()
	for time.Now().Before(deadline) && !c.arrivedUpTo(last) {
		time.Sleep(pollInterval)
	}
	close(c.stopPolls)
	<-c.pollsDone
	r := c.report()
	if c.losses != nil {
		r.Deleted, r.Lost = c.losses()
	}
	return r
}

// write makes one change every interval, to the members in turn.
func (c *Churn) write() {
	defer close(c.writesDone)
	tick := time.NewTicker(c.interval)
	defer tick.Stop()
	for k := 0; ; k++ {
		select {
		case <-c.stopWrites:
			return
		case <-tick.C:
		}
		i := k % len(c.spec.Members)
		// Noted as sent before it is: the store may show it before the update call returns.
		c.mu.Lock()
		n := len(c.sent[i])
		c.sent[i] = append(c.sent[i], time.Now())
		c.mu.Unlock()
		ctx, cancel := context.WithTimeout(c.t.Context(), 10*time.Second)
		err := c.spec.SetAddress(ctx, i, ChurnAddr(i, n))
		cancel()
		if err != nil {
			c.mu.Lock()
			c.sent[i] = c.sent[i][:n]
			c.failures = append(c.failures, fmt.Sprintf("%s change %d: %v", c.spec.Members[i], n, err))
			c.mu.Unlock()
		}
	}
}

// poll reads the churn's endpoints from the store every pollInterval and notes the arrivals.
func (c *Churn) poll() {
	defer close(c.pollsDone)
	var st *store.Client
	defer func() {
		if st != nil {
			_ = st.Close()
		}
	}()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		select {
		case <-c.stopPolls:
			return
		case <-tick.C:
		}
		if st == nil {
			var err error
			cfg := c.spec.Store
			cfg.DialTimeout = 250 * time.Millisecond
			if st, err = store.Connect(c.t.Context(), cfg); err != nil {
				st = nil
				continue
			}
		}
		ctx, cancel := context.WithTimeout(c.t.Context(), 500*time.Millisecond)
		l, err := st.List(ctx, store.ServiceEndpointsPrefix(c.spec.Namespace, wellknown.DefaultSegmentDomain, ChurnService))
		cancel()
		if err != nil {
			_ = st.Close() // a new connection, without backoff, at the next tick
			st = nil
			continue
		}
		c.note(l.Endpoints(), time.Now())
	}
}

// note records, for each member, every change up to the one the store shows as arrived at now.
func (c *Churn) note(records []*store.EndpointsRecord, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range records {
		i := slices.Index(c.spec.Members, r.Cluster)
		if i < 0 || len(r.Endpoints) != 1 {
			continue
		}
		member, n, ok := ChurnChange(r.Endpoints[0].Address)
		if !ok || member != i {
			continue
		}
		for len(c.arrived[i]) <= n && len(c.arrived[i]) < len(c.sent[i]) {
			c.arrived[i] = append(c.arrived[i], now)
		}
	}
}

func (c *Churn) arrivedUpTo(last []int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, n := range last {
		if len(c.arrived[i]) <= n {
			return false
		}
	}
	return true
}

// report computes the propagation times of the changes made after the initial state.
func (c *Churn) report() ChurnReport {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := ChurnReport{Failed: len(c.failures)}
	var all []time.Duration
	for i := range c.sent {
		for n := 1; n < len(c.sent[i]); n++ {
			if n >= len(c.arrived[i]) {
				r.Missing++
				continue
			}
			d := c.arrived[i][n].Sub(c.sent[i][n])
			all = append(all, d)
			if d > r.Max {
				r.Max, r.MaxAt = d, c.sent[i][n]
			}
		}
	}
	r.Changes = len(all)
	if len(all) > 0 {
		slices.Sort(all)
		r.Median = all[len(all)/2]
	}
	for _, f := range c.failures {
		c.t.Logf("churn: %s", f)
	}
	return r
}

// ChurnAddr is the address of member i's endpoint after change n: 10.(200+i).(n/256).(n%256).
func ChurnAddr(i, n int) string {
	return netip.AddrFrom4([4]byte{10, byte(200 + i), byte(n >> 8), byte(n)}).String()
}

// ChurnChange decodes ChurnAddr.
func ChurnChange(addr string) (member, n int, ok bool) {
	a, err := netip.ParseAddr(addr)
	if err != nil || !a.Is4() {
		return 0, 0, false
	}
	b := a.As4()
	if b[0] != 10 || b[1] < 200 {
		return 0, 0, false
	}
	return int(b[1]) - 200, int(b[2])<<8 | int(b[3]), true
}

// exportFixed exports ns/svc in m (scope global, one HTTP port) with one endpoint at addr.
func (f *Federation) exportFixed(m *Member, ns, svc, addr string) {
	f.t.Helper()
	ctx := f.t.Context()
	if err := m.Client().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
		f.t.Fatal(err)
	}
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: svc, Namespace: ns, Annotations: map[string]string{wellknown.ServiceScopeKey: "global"}},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: HTTPPort}}},
	}
	if err := m.Client().Create(ctx, s); err != nil {
		f.t.Fatal(err)
	}
	if err := f.setSliceAddress(m, ns, svc, addr); err != nil {
		f.t.Fatal(err)
	}
}

// setSliceAddress creates or updates the EndpointSlice <svc>-e2e of ns/svc in m to hold one
// ready endpoint at addr.
func (f *Federation) setSliceAddress(m *Member, ns, svc, addr string) error {
	ctx, cancel := context.WithTimeout(f.t.Context(), 10*time.Second)
	defer cancel()
	port, name, ready := int32(BackendHTTPPort), "http", true
	want := discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: svc + "-e2e", Namespace: ns, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &name, Port: &port}},
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{addr}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
	}
	var cur discoveryv1.EndpointSlice
	err := m.Client().Get(ctx, client.ObjectKeyFromObject(&want), &cur)
	if apierrors.IsNotFound(err) {
		return m.Client().Create(ctx, &want)
	}
	if err != nil {
		return err
	}
	cur.Endpoints = want.Endpoints
	return m.Client().Update(ctx, &cur)
}

// StoreKeys lists the keys the store holds under the prefixes.
func StoreKeys(t testing.TB, st *store.Client, prefixes ...string) []string {
	t.Helper()
	var keys []string
	for _, prefix := range prefixes {
		l, err := st.List(t.Context(), prefix)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range l.Entries {
			keys = append(keys, e.Key.String())
		}
	}
	return keys
}

// StoreLosses replays the store's history under prefix watch after revision from for deleted
// keys, and lists the keys of before that the store no longer holds under the prefixes.
func StoreLosses(t testing.TB, cfg store.ClientConfig, watch string, from int64, before []string, prefixes ...string) (deleted, lost []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	st, err := store.Connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	now, err := st.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.Watch(ctx, watch, from)
	if err != nil {
		t.Fatal(err)
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for w.Revision() < now {
		select {
		case b := <-w.Batches():
			if b.Snapshot {
				t.Fatalf("the store's history after revision %d was compacted: deletions cannot be checked", from)
			}
			for _, ev := range b.Events {
				if ev.Type == store.EventDelete {
					deleted = append(deleted, ev.Key.String())
				}
			}
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("replaying the store's history up to revision %d: %v", now, ctx.Err())
		}
	}
	after := StoreKeys(t, st, prefixes...)
	for _, k := range before {
		if !slices.Contains(after, k) {
			lost = append(lost, k)
		}
	}
	return deleted, lost
}
