package app

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/cmd/meshfed-bench/benchstat"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/internal/benchbounds"
)

// Sizes of TestLargeServiceFederates.
const (
	largeNodes     = 300  // Nodes of the member, over three zones
	largeSliceSize = 1000 // endpoints per EndpointSlice, the API's maximum
	// smallPropagationBound is the longest a change to a small service may take to reach the
	// store while a 50,000-endpoint service is written and churns: a few passes of the hub, each
	// of which, when the large service changed, merges and encodes it, on a shared test machine.
	smallPropagationBound = 10 * time.Second
	// smallChurnP99Bound is the hub's normal propagation bound, the goal for the p99 of a small
	// service's propagation while the large one churns; enforced only under `make bench`
	// (benchbounds), which runs alone on the machine.
	smallChurnP99Bound = 200 * time.Millisecond
	// suiteFlips and benchFlips are the large-service flips of the churn in the test suite and
	// under `make bench`: the bench's churn lasts long enough (30 s) for about 200 small-service
	// changes, so that its p99 is not just the slowest of a few dozen.
	suiteFlips = 30
	benchFlips = 150
	// quietFlips are the large-service flips made with no small-service change beside them,
	// to measure the store bytes one endpoint change costs.
	quietFlips = 10
)

// churnFlips is how many times the churn flips the large service: benchFlips where the speed
// bounds are enforced (`make bench`, see benchbounds), suiteFlips in the test suite.
func churnFlips() int {
	if benchbounds.Enforced() {
		return benchFlips
	}
	return suiteFlips
}

// TestLargeServiceFederates: a member exports a Service of 10,000 endpoints, then 50,000, with
// the node and zone names of a real cloud cluster; each reaches the store whole (a ~2.4 MB and
// a ~12 MB endpoints record, which etcd refuses as one value). Meanwhile and while the large
// service then churns, every change to a small service of the same member reaches the store
// within smallPropagationBound (and, under `make bench`, the p99 while it churns within
// smallChurnP99Bound). It logs that propagation and the store bytes the hub writes per change
// of the large service, with and without small-service changes beside it. It runs twice, side by side: without MCS EndpointSlices
// (--mcs-endpointslices=none) and with them (all; the member imports its own
// global service, so the hub writes 50 MCS slices of it there), logging what they cost: the
// process's CPU time during the churn (hub and test client run in it), the time the slices took
// to appear, and how many of them each flip rewrote.
func TestLargeServiceFederates(t *testing.T) {
	for _, mode := range []string{"none", "all"} {
		t.Run("mcs-endpointslices="+mode, func(t *testing.T) { largeServiceFederates(t, mode) })
	}
}

func largeServiceFederates(t *testing.T, mode string) {
	env := startHubWith(t, func(o *Options) {
		o.MCSEndpointSlices = mode
		// The churn loads the hub's API server too; a renewal stalled past the default 10 s
		// deadline ends the hub's leadership (CI at load 30: "failed to renew lease"), which
		// this test is not about.
		o.LeaseDuration, o.RenewDeadline = time.Minute, 45*time.Second
	}, "east-1")
	c := env.members["east-1"].Client
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	createNodes(t, c, largeNodes)
	export(t, c, "shop", "small", "global", "10.9.0.1", fixedIP)
	// The prober's watcher sees only the small service's records: it times their arrival in
	// the store, which must not wait for this process to join the large service's records. A
	// second watcher reports those (the count of endpoints of each) on big until the test ends.
	w, err := env.store.Watch(ctx, store.ServiceEndpointsPrefix("shop", wellknown.DefaultSegmentDomain, "small"), 0)
	if err != nil {
		t.Fatal(err)
	}
	bigWatch, err := env.store.Watch(ctx, store.ServiceEndpointsPrefix("shop", wellknown.DefaultSegmentDomain, "big"), 0)
	if err != nil {
		t.Fatal(err)
	}
	big := make(chan int, 1024)
	wg.Go(func() { forwardCounts(ctx, bigWatch, big) })
	small := endpointState{moving: "10.9.0.1", fixedReady: true}
	awaitRecord(t, w, "small", func(r *store.EndpointsRecord) bool { return matches(r, small) }, 60*time.Second)
	var slice discoveryv1.EndpointSlice
	if err := c.Get(ctx, client.ObjectKey{Namespace: "shop", Name: "small-1"}, &slice); err != nil {
		t.Fatal(err)
	}

	// The prober changes the small service, one change at a time, and times each until the
	// store watcher sees it.
	var probes []probe
	probeCtx, stopProbe := context.WithCancel(ctx)
	probed := make(chan struct{})
	wg.Go(func() { defer close(probed); probes = probeSmall(probeCtx, t, c, w, &slice, small) })

	createLargeService(t, c, "big", 0, 10000)
	awaitCount(t, big, 10000)
	createLargeService(t, c, "big", 10000, 50000)
	awaitCount(t, big, 50000)
	if mode != "none" {
		awaitMCSSlices(t, c, "big", 50000)
	}

	before := hubMetrics(t)
	slicesBefore := mcsSliceVersions(t, c, "big")
	cpuBefore := processCPU(t)
	churnStart := time.Now()
	churns := churnLarge(t, c, "big", churnFlips())
	churnEnd := time.Now()
	awaitQuiet(big)
	cpu := processCPU(t) - cpuBefore
	after := hubMetrics(t)
	rewritten := 0
	for name, rv := range mcsSliceVersions(t, c, "big") {
		if slicesBefore[name] != rv {
			rewritten++
		}
	}
	t.Logf("mcs-endpointslices=%s: churn of %d flips (+3 s quiet) took %s of process CPU (hub and test client), %s per flip; %d of %d MCS slices rewritten",
		mode, churns, cpu.Round(time.Millisecond), (cpu / time.Duration(churns)).Round(time.Millisecond), rewritten, len(slicesBefore))
	stopProbe()
	<-probed
	quietBytes := quietChurnBytes(t, c, big)

	var latencies, churning []time.Duration
	for _, p := range probes {
		latencies = append(latencies, p.took)
		if p.sent.After(churnStart) && p.sent.Before(churnEnd) {
			churning = append(churning, p.took)
		}
	}
	if len(latencies) < 5 || len(churning) < 5 {
		t.Fatalf("only %d small-service changes were measured, %d of them while the large service churned", len(latencies), len(churning))
	}
	t.Logf("small-service propagation while the large one synced and churned: %s", percentiles(latencies))
	t.Logf("small-service propagation while the large one churned: %s", percentiles(churning))
	t.Logf("large-service churn: %d readiness flips, %.0f store bytes written in all, %.0f per flip (small-service changes included); %.0f bytes per endpoint change alone (%d flips without small-service changes)",
		churns, after.bytes-before.bytes, (after.bytes-before.bytes)/float64(churns), quietBytes/quietFlips, quietFlips)
	if worst := latencies[len(latencies)-1]; worst > smallPropagationBound {
		t.Fatalf("a small-service change took %s to reach the store, bound %s", worst, smallPropagationBound)
	}
	slices.Sort(churning)
	if p99 := benchstat.Percentile(churning, 99); benchbounds.Enforced() && p99 > smallChurnP99Bound {
		t.Fatalf("small-service propagation p99 while the large service churned: %s, bound %s (%s=enforce)", p99, smallChurnP99Bound, benchbounds.Env)
	}
}

// quietChurnBytes flips the large service quietFlips times with no other change, waits until
// the store is quiet (big, the large service's records, falls silent), and returns the store
// bytes the hub wrote meanwhile.
func quietChurnBytes(t *testing.T, c client.Client, big <-chan int) float64 {
	t.Helper()
	awaitQuiet(big)
	before := hubMetrics(t)
	churnLarge(t, c, "big", quietFlips)
	awaitQuiet(big)
	return hubMetrics(t).bytes - before.bytes
}

// percentiles describes latencies: their count, p50, p90, p99 and max (nearest rank, so with
// fewer than 100 values the p99 is the maximum); it sorts them.
func percentiles(latencies []time.Duration) string {
	slices.Sort(latencies)
	at := func(p float64) time.Duration { return benchstat.Percentile(latencies, p).Round(time.Millisecond) }
	return fmt.Sprintf("%d changes, p50 %s, p90 %s, p99 %s, max %s", len(latencies), at(50), at(90), at(99), at(100))
}

// createNodes creates n Nodes named as a cloud provider names them, labelled with region and
// zone.
func createNodes(t *testing.T, c client.Client, n int) {
	t.Helper()
	for i := range n {
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
			Name: nodeName(i),
			Labels: map[string]string{
				corev1.LabelTopologyRegion: "eu-west-1",
				corev1.LabelTopologyZone:   "eu-west-1" + string(rune('a'+i%3)),
			},
		}}
		if err := c.Create(t.Context(), node); err != nil {
			t.Fatal(err)
		}
	}
}

func nodeName(i int) string {
	return fmt.Sprintf("ip-10-20-%d-%d.eu-west-1.compute.internal", i/256, i%256)
}

// createLargeService creates (once) Service ns shop/name and EndpointSlices holding endpoints
// from up to to, largeSliceSize a slice, each on one of the Nodes.
func createLargeService(t *testing.T, c client.Client, name string, from, to int) {
	t.Helper()
	ctx := t.Context()
	if from == 0 {
		export(t, c, "shop", name, "global")
	}
	port, pname := int32(8080), "http"
	for s := from / largeSliceSize; s < to/largeSliceSize; s++ {
		eps := &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: fmt.Sprintf("%s-large-%03d", name, s), Namespace: "shop", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: &pname, Port: &port}},
		}
		for i := s * largeSliceSize; i < (s+1)*largeSliceSize; i++ {
			eps.Endpoints = append(eps.Endpoints, discoveryv1.Endpoint{
				Addresses:  []string{fmt.Sprintf("10.%d.%d.%d", 100+i/65536, i/256%256, i%256)},
				Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(i%7 != 0), Serving: ptr.To(true)},
				NodeName:   ptr.To(nodeName(i * 7919 % largeNodes)),
			})
		}
		if err := c.Create(ctx, eps); err != nil {
			t.Fatal(err)
		}
	}
}

// churnLarge flips the readiness of one endpoint of the large service n times, one slice after
// another, 200 ms apart, and returns n.
func churnLarge(t *testing.T, c client.Client, name string, n int) int {
	t.Helper()
	ctx := t.Context()
	for i := range n {
		var eps discoveryv1.EndpointSlice
		key := client.ObjectKey{Namespace: "shop", Name: fmt.Sprintf("%s-large-%03d", name, i*7%50)}
		if err := c.Get(ctx, key, &eps); err != nil {
			t.Fatal(err)
		}
		ep := &eps.Endpoints[i*131%len(eps.Endpoints)]
		ep.Conditions.Ready = ptr.To(!*ep.Conditions.Ready)
		if err := c.Update(ctx, &eps); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return n
}

// probe is one change of the small service: when it was sent and how long it took to reach
// the store.
type probe struct {
	sent time.Time
	took time.Duration
}

// probeSmall changes the small service over and over, each change once the watcher saw the
// previous one, until ctx ends, and returns when each change was sent and how long it took to
// reach the store.
func probeSmall(ctx context.Context, t *testing.T, c client.Client, w *store.Watcher, slice *discoveryv1.EndpointSlice, s endpointState) []probe {
	var out []probe
	for i := 1; ctx.Err() == nil; i++ {
		s = nextState(s, i)
		setState(slice, s)
		sent := time.Now()
		if err := c.Update(ctx, slice); err != nil {
			if ctx.Err() == nil {
				t.Errorf("update %d of the small service: %v", i, err)
			}
			return out
		}
		want := s
		if !watchUntil(ctx, w, func(r *store.EndpointsRecord) bool { return r.Name == "small" && matches(r, want) }) {
			return out
		}
		out = append(out, probe{sent: sent, took: time.Since(sent)})
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	return out
}

// forwardCounts sends the endpoint count of every endpoints record w delivers to counts,
// dropping what counts has no room for, until ctx ends.
func forwardCounts(ctx context.Context, w *store.Watcher, counts chan<- int) {
	watchUntil(ctx, w, func(r *store.EndpointsRecord) bool {
		select {
		case counts <- len(r.Endpoints):
		default:
		}
		return false
	})
}

// watchUntil reads batches until an endpoints record satisfies done (true) or ctx ends. It
// hands done every record of the batch that satisfied it, so that none after it is lost.
func watchUntil(ctx context.Context, w *store.Watcher, done func(*store.EndpointsRecord) bool) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case b, ok := <-w.Batches():
			if !ok {
				return false
			}
			found := false
			for _, ev := range b.Events {
				if r, ok := ev.Record.(*store.EndpointsRecord); ok && done(r) {
					found = true
				}
			}
			if found {
				return true
			}
		}
	}
}

// awaitRecord reads the watcher until an endpoints record of name satisfies ok.
func awaitRecord(t *testing.T, w *store.Watcher, name string, ok func(*store.EndpointsRecord) bool, limit time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	if !watchUntil(ctx, w, func(r *store.EndpointsRecord) bool { return r.Name == name && ok(r) }) {
		t.Fatalf("store watcher did not see %s within %s", name, limit)
	}
}

// awaitCount waits until the large service's record holds n endpoints.
func awaitCount(t *testing.T, big <-chan int, n int) {
	t.Helper()
	began := time.Now()
	timeout := time.After(5 * time.Minute)
	for {
		select {
		case got := <-big:
			if got == n {
				t.Logf("large service: %d endpoints in the store %s after its last slice was created", n, time.Since(began).Round(time.Millisecond))
				return
			}
		case <-timeout:
			t.Fatalf("the store never held the large service with %d endpoints", n)
		}
	}
}

// awaitQuiet drains big until no large-service record arrived for 3 s.
func awaitQuiet(big <-chan int) {
	for {
		select {
		case <-big:
		case <-time.After(3 * time.Second):
			return
		}
	}
}

// awaitMCSSlices waits until the member's MCS EndpointSlices of shop/name hold n endpoints
// and logs how long that took and how many slices they are.
func awaitMCSSlices(t *testing.T, c client.Client, name string, n int) {
	t.Helper()
	began := time.Now()
	eventually(t, fmt.Sprintf("MCS endpointslices of shop/%s hold %d endpoints", name, n), func() (bool, string) {
		got, count := 0, 0
		for _, s := range mcsSlices(t, c, "shop", name) {
			got += len(s.Endpoints)
			count++
			if len(s.Endpoints) > 1000 {
				return false, fmt.Sprintf("slice %s has %d endpoints", s.Name, len(s.Endpoints))
			}
		}
		if got == n {
			t.Logf("MCS endpointslices: %d endpoints in %d slices %s after the store held them", got, count, time.Since(began).Round(time.Millisecond))
		}
		return got == n, fmt.Sprintf("%d endpoints in %d slices", got, count)
	})
}

// mcsSliceVersions maps the member's MCS EndpointSlices of shop/name to their resource versions.
func mcsSliceVersions(t *testing.T, c client.Client, name string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, s := range mcsSlices(t, c, "shop", name) {
		out[s.Name] = s.ResourceVersion
	}
	return out
}

// processCPU is the user and system CPU time this process has used.
func processCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
