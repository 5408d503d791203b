package system

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
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

// The services a Churn exports in every member: churn's EndpointSlice changes, steady's never.
const (
	churnService  = "churn"
	steadyService = "steady"
)

// Churn changes the EndpointSlice of the service "churn" in the members, one member after the
// other at a fixed total rate, and measures how long each change takes to reach the federation
// store. Change n of a member gives its endpoint an address that encodes n, so whatever the
// store shows names the latest change it holds; a change counts as arrived when the store
// shows it or a later one of the same member (the hub may fold several into one write).
//
// The store is read every pollInterval on a connection of the Churn's own, reopened at once
// when the store restarts (with the embedded store, the hub's restart restarts it), so the
// measurement does not wait for a client's reconnection backoff.
type Churn struct {
	f        *Federation
	ns       string
	interval time.Duration
	fromRev  int64    // the store revision once the initial state had arrived
	keys     []string // the keys of ns and of the clusters the store held then
	// stopWrites and stopPolls end the two goroutines, which close their done channels.
	stopWrites, stopPolls chan struct{}
	writesDone, pollsDone chan struct{}

	mu       sync.Mutex
	sent     [][]time.Time // per member, when change n was sent (index n)
	arrived  [][]time.Time // per member, when change n was first seen in the store
	failures []string      // changes a member's API server refused
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
func (f *Federation) StartChurn(ns string, perSecond int) *Churn {
	f.t.Helper()
	c := &Churn{
		f: f, ns: ns, interval: time.Second / time.Duration(perSecond),
		stopWrites: make(chan struct{}), stopPolls: make(chan struct{}), writesDone: make(chan struct{}), pollsDone: make(chan struct{}),
	}
	for i, m := range f.Members {
		f.exportFixed(m, ns, steadyService, churnAddr(i, 0xffff))
		f.exportFixed(m, ns, churnService, churnAddr(i, 0))
		c.sent = append(c.sent, []time.Time{time.Now()})
		c.arrived = append(c.arrived, nil)
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
	if c.fromRev, err = st.Revision(f.t.Context()); err != nil {
		f.t.Fatal(err)
	}
	c.keys = f.storeKeys(st, ns)
	go c.poll()
	go c.write()
	return c
}

// Stop stops the changes, waits up to a minute for the last ones to reach the store, and
// reports. It also replays the store's history since the start for deleted keys.
func (c *Churn) Stop() ChurnReport {
	c.f.t.Helper()
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
	r.Deleted, r.Lost = c.f.storeLosses(c.fromRev, c.ns, c.keys)
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
		i := k % len(c.f.Members)
		// Noted as sent before it is: the store may show it before the update call returns.
		c.mu.Lock()
		n := len(c.sent[i])
		c.sent[i] = append(c.sent[i], time.Now())
		c.mu.Unlock()
		if err := c.f.setSliceAddress(c.f.Members[i], c.ns, churnService, churnAddr(i, n)); err != nil {
			c.mu.Lock()
			c.sent[i] = c.sent[i][:n]
			c.failures = append(c.failures, fmt.Sprintf("%s change %d: %v", c.f.Members[i].Name, n, err))
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
			cfg := c.f.StoreClientConfig()
			cfg.DialTimeout = 250 * time.Millisecond
			if st, err = store.Connect(c.f.t.Context(), cfg); err != nil {
				st = nil
				continue
			}
		}
		ctx, cancel := context.WithTimeout(c.f.t.Context(), 500*time.Millisecond)
		l, err := st.List(ctx, store.ServiceEndpointsPrefix(c.ns, wellknown.DefaultSegmentDomain, churnService))
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
		i := slices.IndexFunc(c.f.Members, func(m *Member) bool { return m.Name == r.Cluster })
		if i < 0 || len(r.Endpoints) != 1 {
			continue
		}
		member, n, ok := churnChange(r.Endpoints[0].Address)
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
		c.f.t.Logf("churn: %s", f)
	}
	return r
}

// churnAddr is the address of member i's endpoint after change n: 10.(200+i).(n/256).(n%256).
func churnAddr(i, n int) string {
	return netip.AddrFrom4([4]byte{10, byte(200 + i), byte(n >> 8), byte(n)}).String()
}

// churnChange decodes churnAddr.
func churnChange(addr string) (member, n int, ok bool) {
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

// storeKeys lists the keys the store holds in namespace ns and for the clusters.
func (f *Federation) storeKeys(st *store.Client, ns string) []string {
	f.t.Helper()
	var keys []string
	for _, prefix := range []string{store.NamespacePrefix(ns), store.ClustersPrefix} {
		l, err := st.List(f.t.Context(), prefix)
		if err != nil {
			f.t.Fatal(err)
		}
		for _, e := range l.Entries {
			keys = append(keys, e.Key.String())
		}
	}
	return keys
}

// storeLosses replays the store's history after revision from for deleted keys (any record
// under the store's root), and lists the keys of before that the store no longer holds.
func (f *Federation) storeLosses(from int64, ns string, before []string) (deleted, lost []string) {
	f.t.Helper()
	st, err := f.ConnectStore()
	if err != nil {
		f.t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	ctx, cancel := context.WithTimeout(f.t.Context(), 30*time.Second)
	defer cancel()
	now, err := st.Revision(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	w, err := st.Watch(ctx, store.Root, from)
	if err != nil {
		f.t.Fatal(err)
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for w.Revision() < now {
		select {
		case b := <-w.Batches():
			for _, ev := range b.Events {
				if ev.Type == store.EventDelete {
					deleted = append(deleted, ev.Key.String())
				}
			}
		case <-tick.C:
		case <-ctx.Done():
			f.t.Fatalf("replaying the store's history up to revision %d: %v", now, ctx.Err())
		}
	}
	after := f.storeKeys(st, ns)
	for _, k := range before {
		if !slices.Contains(after, k) {
			lost = append(lost, k)
		}
	}
	return deleted, lost
}
