package app

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/benchstat"
	"github.com/meshfed/meshfed/federation/store"
)

// latencyUpdates is how many sequential EndpointSlice updates TestPropagationLatency sends.
const latencyUpdates = 200

// fixedIP is the endpoint whose readiness the benchmark toggles; the other one moves.
const fixedIP = "10.9.255.1"

// endpointState is what the benchmark expects in east-1's endpoints record of lat/web: the
// moving endpoint's address and the fixed endpoint's readiness.
type endpointState struct {
	moving     string
	fixedReady bool
}

// TestPropagationLatency measures update-sent → store-watcher-saw over the real hub: 200
// sequential EndpointSlice updates in a member, alternately moving one endpoint and toggling
// another's readiness, each sent only once a store watcher saw the previous one. It logs p50,
// p90, p99 and max (the target is p99 ≤ 200 ms) and the hub's own metrics over the run;
// it asserts only that every change arrives, exactly as sent, and that the hub counted them.
func TestPropagationLatency(t *testing.T) {
	env := startHub(t, "east-1")
	c := env.members["east-1"].Client
	export(t, c, "lat", "web", "global", "10.9.0.1", fixedIP)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	w, err := env.store.Watch(ctx, store.NamespacePrefix("lat"), 0)
	if err != nil {
		t.Fatal(err)
	}
	state := endpointState{moving: "10.9.0.1", fixedReady: true}
	awaitState(t, w, state, 60*time.Second)

	var eps discoveryv1.EndpointSlice
	if err := c.Get(ctx, client.ObjectKey{Namespace: "lat", Name: "web-1"}, &eps); err != nil {
		t.Fatal(err)
	}
	before := hubMetrics(t)
	began := time.Now()
	latencies := make([]time.Duration, 0, latencyUpdates)
	for i := 1; i <= latencyUpdates; i++ {
		state = nextState(state, i)
		setState(&eps, state)
		sent := time.Now()
		if err := c.Update(ctx, &eps); err != nil { // Update refreshes eps's resourceVersion
			t.Fatalf("update %d: %v", i, err)
		}
		awaitState(t, w, state, 10*time.Second)
		latencies = append(latencies, time.Since(sent))
	}
	elapsed := time.Since(began)
	logLatencies(t, latencies, elapsed)
	logHubMetrics(t, before)
}

// nextState moves the moving endpoint on even updates and toggles the fixed one's readiness
// on odd ones.
func nextState(s endpointState, i int) endpointState {
	if i%2 == 0 {
		s.moving = fmt.Sprintf("10.9.%d.%d", i/250, i%250+1)
	} else {
		s.fixedReady = !s.fixedReady
	}
	return s
}

// setState writes s into the slice export created: endpoint 0 moves, endpoint 1 is fixedIP.
func setState(eps *discoveryv1.EndpointSlice, s endpointState) {
	eps.Endpoints[0].Addresses = []string{s.moving}
	eps.Endpoints[1].Conditions.Ready = ptr.To(s.fixedReady)
}

// awaitState reads the watcher until east-1's endpoints record of web is exactly want.
func awaitState(t *testing.T, w *store.Watcher, want endpointState, limit time.Duration) {
	t.Helper()
	timeout := time.After(limit)
	for {
		select {
		case b, ok := <-w.Batches():
			if !ok {
				t.Fatal("store watcher closed")
			}
			for _, ev := range b.Events {
				if r, ok := ev.Record.(*store.EndpointsRecord); ok && r.Name == "web" && r.Cluster == "east-1" && matches(r, want) {
					return
				}
			}
		case <-timeout:
			t.Fatalf("store watcher did not see %+v within %s", want, limit)
		}
	}
}

// matches reports whether r holds exactly the two endpoints of s.
func matches(r *store.EndpointsRecord, s endpointState) bool {
	if len(r.Endpoints) != 2 {
		return false
	}
	var moved, fixed bool
	for _, e := range r.Endpoints {
		moved = moved || e.Address == s.moving
		fixed = fixed || (e.Address == fixedIP && e.Ready == s.fixedReady)
	}
	return moved && fixed
}

// logLatencies logs the percentiles of d.
func logLatencies(t *testing.T, d []time.Duration, elapsed time.Duration) {
	t.Helper()
	if len(d) != latencyUpdates || slices.Min(d) <= 0 {
		t.Fatalf("latencies: %d samples, min %s; want %d positive", len(d), slices.Min(d), latencyUpdates)
	}
	slices.Sort(d)
	pct := func(p float64) time.Duration { return benchstat.Percentile(d, p) }
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	t.Logf("propagation update-sent → watcher-saw over %d updates in %s: min %s p50 %s p90 %s p99 %s max %s mean %s (target p99 ≤ 200ms)",
		len(d), elapsed.Round(time.Millisecond), d[0].Round(time.Microsecond), pct(50).Round(time.Microsecond),
		pct(90).Round(time.Microsecond), pct(99).Round(time.Microsecond), d[len(d)-1].Round(time.Microsecond),
		(sum / time.Duration(len(d))).Round(time.Microsecond))
}

// hubReading is what the hub's own metrics say at one moment.
type hubReading struct {
	propagations          uint64
	propagationSum        float64
	writes, bytes, passes float64
}

// hubMetrics reads the hub's metrics from controller-runtime's registry, which the hub running
// in this process serves on /metrics.
func hubMetrics(t *testing.T) hubReading {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var r hubReading
	for _, f := range families {
		for _, m := range f.GetMetric() {
			switch f.GetName() {
			case "meshfed_hub_propagation_seconds":
				r.propagations, r.propagationSum = m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()
			case "meshfed_hub_store_writes_total":
				r.writes = m.GetCounter().GetValue()
			case "meshfed_hub_store_bytes_written_total":
				r.bytes = m.GetCounter().GetValue()
			case "meshfed_hub_federation_passes_total":
				r.passes += m.GetCounter().GetValue()
			}
		}
	}
	return r
}

// logHubMetrics waits for the hub to have closed one propagation per update (the watcher can
// see a write before the pass records it) and logs what its metrics added during the run.
func logHubMetrics(t *testing.T, before hubReading) {
	t.Helper()
	var d hubReading
	eventually(t, "one propagation sample per update", func() (bool, string) {
		after := hubMetrics(t)
		d = hubReading{
			propagations: after.propagations - before.propagations, propagationSum: after.propagationSum - before.propagationSum,
			writes: after.writes - before.writes, bytes: after.bytes - before.bytes, passes: after.passes - before.passes,
		}
		return d.propagations >= latencyUpdates, fmt.Sprintf("%d samples", d.propagations)
	})
	t.Logf("hub metrics over the run: %d propagation samples, mean %s (informer → store write); %.0f passes; %.0f keys and %.0f bytes written (%.2f keys, %.0f bytes per update)",
		d.propagations, time.Duration(d.propagationSum/float64(d.propagations)*float64(time.Second)).Round(time.Microsecond),
		d.passes, d.writes, d.bytes, d.writes/latencyUpdates, d.bytes/latencyUpdates)
}
