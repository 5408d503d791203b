package scenarios

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/e2e/system"
	"github.com/meshfed/meshfed/waypoint/table"
)

// rollout is the service whose pods TestRollout replaces.
const rollout = "roll"

// rolloutPhase is one state of the rollout: what the waypoint must compute for it (the
// healthy and degraded share of its single tier, the overprovisioning factor in force) and
// which pods may answer while it lasts.
type rolloutPhase struct {
	name string
	// change moves the system into the phase.
	change func(t *testing.T)
	// healthy and degraded are the waypoint's expected shares of the tier, in percent.
	healthy, degraded uint32
	factor            uint32
	// answer checks who answered the requests sent during the phase.
	answer func(t *testing.T, byPod map[string]int)
}

// TestRollout replaces every pod of a service under 100 requests/s as a Deployment rollout
// whose pods keep serving through their grace period does: the old pods become
// serving-but-terminating (degraded) while new ones start, the new ones turn ready, and when
// the old ones' grace period (here 10 to 20 s) ends, each process is killed and then its
// endpoint removed, as the kubelet and the EndpointSlice controller do. The first two end
// while they still take a share of the traffic, so the waypoint's retries must cover the
// requests that meet a killed pod. No request fails.
//
// In each phase the test waits until the waypoint's /debug/endpoints shows the split Envoy's
// code gives for it, then checks who answered the requests sent during the phase: the degraded
// pods take all the traffic while nothing is healthy, a share while healthy pods are too few
// (health below 100 % with Envoy's 1.4 factor), and none once the service's
// meshfed.io/overprovisioning-factor makes the healthy ones suffice — the load policy carried
// from the member's Service through the hub and the store to the waypoint.
func TestRollout(t *testing.T) {
	f := system.Start(t, system.DefaultTopology()[:1])
	east := f.Member("east-1")
	zone := east.Zones[0]
	f.Export(east, shop, rollout, "global", nil)
	var old, next []*system.Backend
	for range 4 {
		old = append(old, f.AddBackend(east, zone, shop, rollout))
	}
	wp := f.DeployWaypoint(east, shop, system.WaypointOptions{})
	c := f.AddClient(east, "rollout-client")
	target := c.Target(wp, shop, rollout, system.HTTPPort)
	f.Eventually("every old pod answers", 30*time.Second, func() (bool, string) {
		seen := map[string]bool{}
		for range 40 {
			if r := c.Get(t.Context(), target); r.OK() {
				seen[r.Pod] = true
			}
		}
		return len(seen) == len(old), fmt.Sprint(seen)
	})
	oldPods, newPods := podNames(old), func() []string { return podNames(next) }

	phases := []rolloutPhase{
		{name: "before the rollout", change: func(*testing.T) {}, healthy: 100, degraded: 0, factor: 140,
			answer: func(t *testing.T, by map[string]int) { onlyPods(t, by, oldPods) }},
		{name: "old pods terminating, new ones starting: all traffic to the degraded pods",
			change: func(*testing.T) {
				for range 4 {
					next = append(next, f.AddStartingBackend(east, zone, shop, rollout))
				}
				f.SetTerminating(old...)
			},
			// healthy 0/8, degraded 4/8: degraded availability 140×4/8 = 70 = NTA, no panic (50 % is not below 50 %).
			healthy: 0, degraded: 100, factor: 140,
			answer: func(t *testing.T, by map[string]int) { onlyPods(t, by, oldPods) }},
		{name: "two new pods ready: too few, the degraded pods take the rest",
			change: func(*testing.T) { f.SetReady(true, next[:2]...) },
			// health 140×2/8 = 35, degraded 70, NTA 100: 35 healthy, 65 degraded.
			healthy: 35, degraded: 65, factor: 140,
			answer: func(t *testing.T, by map[string]int) { sharedPods(t, by, oldPods, newPods(), 45, 85) }},
		{name: "every new pod ready: half the tier healthy still spills 30 %",
			change: func(*testing.T) { f.SetReady(true, next[2:]...) },
			// health 140×4/8 = 70, degraded 70: 70 healthy, 30 degraded.
			healthy: 70, degraded: 30, factor: 140,
			answer: func(t *testing.T, by map[string]int) { sharedPods(t, by, oldPods, newPods(), 15, 45) }},
		{name: "grace period of two old pods over while they take traffic: killed, then removed",
			change: func(*testing.T) { f.RemoveBackends(old[:2]...) },
			// health 140×4/6 = 93, degraded 140×2/6 = 46: 93 healthy, 7 degraded.
			healthy: 93, degraded: 7, factor: 140,
			answer: func(t *testing.T, by map[string]int) { sharedPods(t, by, oldPods[2:], newPods(), 1, 20) }},
		{name: "overprovisioning factor 200: the healthy pods suffice",
			change: func(t *testing.T) { annotate(t, east, wellknown.OverprovisioningFactorKey, "200") },
			// health min(100, 200×4/6) = 100: nothing left for the degraded pods.
			healthy: 100, degraded: 0, factor: 200,
			answer: func(t *testing.T, by map[string]int) { onlyPods(t, by, newPods()) }},
		{name: "grace period of the last old pods over",
			change:  func(*testing.T) { f.RemoveBackends(old[2:]...) },
			healthy: 100, degraded: 0, factor: 200,
			answer: func(t *testing.T, by map[string]int) { onlyPods(t, by, newPods()) }},
	}

	stop := c.Steady(t.Context(), target, 100)
	started := time.Now()
	// A phase's window opens once the waypoint shows its split and closes before the next
	// change: requests sent while a change propagates belong to no phase (but must not fail).
	from, until := make([]time.Time, len(phases)), make([]time.Time, len(phases))
	for i, p := range phases {
		p.change(t)
		waitForSplit(t, f, wp, p, len(f.Backends(east, shop, rollout)))
		from[i] = time.Now()
		time.Sleep(2500 * time.Millisecond)
		until[i] = time.Now()
	}
	time.Sleep(time.Second)
	replies := stop()
	retries, err := wp.Metrics("meshfed_waypoint_request_retries_total{")
	if err != nil {
		t.Fatal(err)
	}

	var failed []system.Reply
	for _, r := range replies {
		if !r.OK() {
			failed = append(failed, r)
		}
	}
	t.Logf("%d requests at 100/s over %v, %d failed; waypoint retries: %v", len(replies), time.Since(started).Round(time.Millisecond), len(failed), retries)
	if len(failed) > 0 {
		t.Errorf("%d of %d requests failed during the rollout; first: %+v", len(failed), len(replies), failed[0])
	}
	for i, p := range phases {
		by := map[string]int{}
		for _, r := range replies {
			if r.OK() && !r.At.Before(from[i]) && r.At.Before(until[i]) {
				by[r.Pod]++
			}
		}
		t.Logf("%s: split %d/%d, answers by pod %v", p.name, p.healthy, p.degraded, by)
		t.Run(fmt.Sprintf("phase-%d", i), func(t *testing.T) { p.answer(t, by) })
	}
}

// waitForSplit waits until the waypoint's route of the rollout service's HTTP port lists
// endpoints endpoints in one tier split as the phase expects.
func waitForSplit(t *testing.T, f *system.Federation, wp *system.Waypoint, p rolloutPhase, endpoints int) {
	t.Helper()
	want := fmt.Sprintf("%d endpoints, healthy [%d] degraded [%d] panic [false] factor %d", endpoints, p.healthy, p.degraded, p.factor)
	f.Eventually(p.name, 30*time.Second, func() (bool, string) {
		var d table.DebugTable
		if err := wp.Debug(&d); err != nil {
			return false, err.Error()
		}
		for _, r := range d.Routes {
			if r.Service != shop+"/"+rollout || r.Port != system.HTTPPort {
				continue
			}
			got := fmt.Sprintf("%d endpoints, healthy %v degraded %v panic %v factor %d",
				len(r.Endpoints), r.TierPercent, r.TierDegradedPercent, r.TierPanic, r.OverprovisioningFactor)
			return got == want, got + "; want " + want
		}
		return false, "no route of " + rollout
	})
}

// annotate sets one annotation on the rollout Service in m.
func annotate(t *testing.T, m *system.Member, key, value string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var svc corev1.Service
	if err := m.Client().Get(ctx, client.ObjectKey{Namespace: shop, Name: rollout}, &svc); err != nil {
		t.Fatal(err)
	}
	svc.Annotations[key] = value
	if err := m.Client().Update(ctx, &svc); err != nil {
		t.Fatal(err)
	}
}

func podNames(bs []*system.Backend) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.Pod.Name
	}
	return out
}

// onlyPods: requests were answered, each by one of pods.
func onlyPods(t *testing.T, by map[string]int, pods []string) {
	t.Helper()
	if len(by) == 0 {
		t.Fatal("no answer in the phase")
	}
	for pod, n := range by {
		if !slices.Contains(pods, pod) {
			t.Errorf("%s answered %d requests; only %v should have", pod, n, pods)
		}
	}
}

// sharedPods: both groups answered and the first group's share of the answers, in percent,
// is within [lo, hi].
func sharedPods(t *testing.T, by map[string]int, first, second []string, lo, hi int) {
	t.Helper()
	var a, b int
	for pod, n := range by {
		switch {
		case slices.Contains(first, pod):
			a += n
		case slices.Contains(second, pod):
			b += n
		default:
			t.Errorf("%s answered %d requests; it belongs to neither %v nor %v", pod, n, first, second)
		}
	}
	if a == 0 || b == 0 {
		t.Fatalf("answers %d from %v and %d from %v, want both", a, first, b, second)
	}
	if share := 100 * a / (a + b); share < lo || share > hi {
		t.Errorf("%v answered %d%% (%d of %d), want %d%%–%d%%", first, share, a, a+b, lo, hi)
	}
}
