package controller

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meshfed/meshfed/internal/memlimit"
)

// TestScaleCurve runs the scale test's passes (runScale) at 10, 20, 50 and 100 clusters × 1,000
// services × 10 endpoints, the last 1,000,000 endpoints, one size after the other in one
// process, and prints how the initial sync, a pass after one endpoint change and the peak RSS
// grow with the federation. Goals (issue 19): the 1,000,000 endpoints sync in ≤ 60 s with hub
// and etcd ≤ 2 GiB, and a change's pass grows with the change, not the federation. `make
// bench` runs it (MESHFED_BENCH_SCALE_CURVE=1); MESHFED_SCALE_CLUSTERS=10,20 picks the sizes.
// The 100-cluster size takes minutes and several GiB.
func TestScaleCurve(t *testing.T) {
	if os.Getenv("MESHFED_BENCH_SCALE_CURVE") == "" {
		t.Skip("benchmark: set MESHFED_BENCH_SCALE_CURVE=1 (make bench)")
	}
	sizes := []int{10, 20, 50, 100}
	if v := os.Getenv("MESHFED_SCALE_CLUSTERS"); v != "" {
		sizes = nil
		for f := range strings.SplitSeq(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 || n > 200 {
				t.Fatalf("MESHFED_SCALE_CLUSTERS=%q: want cluster counts from 1 to 200", v)
			}
			sizes = append(sizes, n)
		}
	}
	// The Go memory limit the hub sets itself in a container limited to 2 GiB (the goal).
	soft := memlimit.Soft(2 << 30)
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(soft))
	t.Logf("Go memory limit %s, as the hub sets it under a 2 GiB container limit (internal/memlimit)", scaleMiB(uint64(soft)))
	var runs []scaleRun
	for _, n := range sizes {
		runtime.GC()
		debug.FreeOSMemory()
		resetPeakRSS(t)
		t.Run(fmt.Sprintf("%d-clusters", n), func(t *testing.T) { runs = append(runs, runScale(t, n)) })
	}
	t.Logf("%8s %10s %8s %9s %9s %9s %8s %8s %8s %8s %10s %10s", "clusters", "endpoints", "keys", "initial", "change", "list", "merge", "ports", "desired", "apply", "peak RSS", "peak heap")
	for _, r := range runs {
		for _, c := range []scalePass{r.ready, r.moved} {
			t.Logf("%8d %10d %8d %9s %9s %9s %8s %8s %8s %8s %10s %10s", r.clusters, r.clusters*scaleServices*scaleEndpoints,
				r.clusters+scaleServices+r.clusters*scaleServices, scaleDur(r.initial.total), scaleDur(c.total),
				scaleDur(c.list), scaleDur(c.merge), scaleDur(c.ports), scaleDur(c.desired), scaleDur(c.apply), scaleMiB(r.hwm), scaleMiB(r.heapPeak))
		}
	}
	for _, r := range runs {
		if r.clusters == 100 {
			t.Logf("1,000,000 endpoints: initial sync %s (goal ≤ 60s: %v), peak RSS %s (goal ≤ 2 GiB: %v)",
				scaleDur(r.initial.total), r.initial.total <= time.Minute, scaleMiB(r.hwm), r.hwm <= 2<<30)
		}
	}
}

// resetPeakRSS starts the process's peak RSS (VmHWM) again from its current RSS.
func resetPeakRSS(t *testing.T) {
	t.Helper()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Logf("peak RSS not reset (it covers the earlier sizes too): %v", err)
	}
}

// TestScaleMemoryWithMembers measures the 1,000,000-endpoint federation (100 clusters) with
// what TestScaleCurve's synthetic exports stand for in the process: every member's Services,
// Namespaces, Nodes and EndpointSlices as its connection's informer caches hold them, and the
// exports derived from them through the connections' caches, gathered as the hub does; under
// the Go memory limit the hub sets in a 2 GiB container. It reports the peak RSS of it all
// (hub, member objects, embedded etcd) and checks that one EndpointSlice change writes one key.
func TestScaleMemoryWithMembers(t *testing.T) {
	if os.Getenv("MESHFED_BENCH_SCALE_MEMBERS") == "" {
		t.Skip("benchmark: set MESHFED_BENCH_SCALE_MEMBERS=1 (make bench)")
	}
	const clusters = 100
	soft := memlimit.Soft(2 << 30)
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(soft))
	resetPeakRSS(t)
	h := newScaleHub(t, clusters)
	g := &scaleGather{}
	for c, cl := range h.clusters {
		g.members = append(g.members, newScaleMember(cl, c))
	}
	pass := func(name string) scalePass {
		start := time.Now()
		exps, same := g.exports(t)
		p := h.pass(t, name, exps, same)
		p.total = time.Since(start) // the gather included
		return p
	}
	initial := pass("initial sync")
	pass("unchanged")
	g.members[7].flip(123, 4)
	changed := pass("one change")
	if changed.keys != 1 {
		t.Errorf("one EndpointSlice change wrote %d keys, want 1", changed.keys)
	}
	hwm := scaleProcStatus(t, "VmHWM")
	t.Logf("%d clusters × %d services × %d endpoints with the members' objects, Go memory limit %s: initial sync %s, a change's pass %s; peak RSS (hub, member objects, embedded etcd) %s (goal ≤ 2 GiB: %v)",
		clusters, scaleServices, scaleEndpoints, scaleMiB(uint64(soft)), scaleDur(initial.total), scaleDur(changed.total), scaleMiB(hwm), hwm <= 2<<30)
}
