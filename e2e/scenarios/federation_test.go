package scenarios

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/e2e/system"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/internal/benchbounds"
	"github.com/meshfed/meshfed/waypoint/table"
)

func TestMain(m *testing.M) { system.Main(m) }

// shop is the namespace of the scenarios' services.
const shop = "shop"

// world is the default topology with the global service shop/web: two backends per zone in
// every member, a waypoint per member, and a client in east-1's first zone.
type world struct {
	f      *system.Federation
	web    map[string][]*system.Backend // by member/zone
	wps    map[string]*system.Waypoint  // by member
	client *system.Client
	target string // the client's address for web's HTTP port
}

func newWorld(t *testing.T, mode string) *world {
	f := system.Start(t, system.DefaultTopology())
	w := &world{f: f, web: map[string][]*system.Backend{}, wps: map[string]*system.Waypoint{}}
	for _, m := range f.Members {
		f.Export(m, shop, "web", "global", map[string]string{wellknown.TrafficDistributionKey: mode})
		for _, z := range m.Zones {
			for range 2 {
				w.web[m.Name+"/"+z] = append(w.web[m.Name+"/"+z], f.AddBackend(m, z, shop, "web"))
			}
		}
	}
	for _, m := range f.Members {
		w.wps[m.Name] = f.DeployWaypoint(m, shop, system.WaypointOptions{})
	}
	east := f.Member("east-1")
	w.client = f.AddClient(east, "client")
	w.target = w.client.Target(w.wps["east-1"], shop, "web", system.HTTPPort)
	return w
}

// setMode changes web's traffic distribution in every member (exports must agree).
func (w *world) setMode(t *testing.T, mode string) {
	t.Helper()
	for _, m := range w.f.Members {
		var svc corev1.Service
		if err := m.Client().Get(t.Context(), client.ObjectKey{Namespace: shop, Name: "web"}, &svc); err != nil {
			t.Fatal(err)
		}
		svc.Annotations[wellknown.TrafficDistributionKey] = mode
		if err := m.Client().Update(t.Context(), &svc); err != nil {
			t.Fatal(err)
		}
	}
}

// sample sends n requests one after the other and counts who served them.
func (w *world) sample(ctx context.Context, n int) (byServer map[string]int, failed int) {
	byServer = map[string]int{}
	for range n {
		r := w.client.Get(ctx, w.target)
		if !r.OK() {
			failed++
			continue
		}
		byServer[r.Cluster+"/"+r.Zone]++
	}
	return byServer, failed
}

// settle samples until every reply of a round of 40 satisfies ok (the change has propagated),
// for at most 30s.
func (w *world) settle(t *testing.T, what string, ok func(map[string]int) bool) map[string]int {
	t.Helper()
	var last map[string]int
	w.f.Eventually(what, 30*time.Second, func() (bool, string) {
		got, failed := w.sample(t.Context(), 40)
		last = got
		return failed == 0 && ok(got), fmt.Sprintf("%v failed %d", got, failed)
	})
	return last
}

func onlyFrom(prefixes ...string) func(map[string]int) bool {
	return func(got map[string]int) bool {
		for k := range got {
			if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(k, p) }) {
				return false
			}
		}
		return len(got) > 0
	}
}

// TestFederation runs the scenarios of one federation in order: join and status, distribution
// per mode, failover tier by tier and back, a network partition, the hub killed during
// traffic, a member API server stopped.
func TestFederation(t *testing.T) {
	w := newWorld(t, "PreferNetwork")
	f := w.f

	t.Run("status", func(t *testing.T) {
		out := f.Ctl("status", "--context", "hub")
		for _, m := range f.Members {
			line := system.StatusLine(out, m.Name)
			if !strings.Contains(line, "True") || !strings.Contains(line, m.Network) {
				t.Errorf("status line of %s = %q, want ready on %s\n%s", m.Name, line, m.Network, out)
			}
		}
	})

	t.Run("modes", func(t *testing.T) {
		got := w.settle(t, "PreferNetwork: network A only", onlyFrom("east-1/", "central-1/"))
		t.Logf("PreferNetwork: %v", got)
		w.setMode(t, "PreferClose")
		got = w.settle(t, "PreferClose: the client's zone only", onlyFrom("east-1/us-east-1a"))
		t.Logf("PreferClose: %v", got)
		w.setMode(t, "Any")
		w.seeAll(t, "Any: all three clusters")
		w.setMode(t, "PreferClose")
		w.settle(t, "PreferClose again", onlyFrom("east-1/us-east-1a"))
	})

	t.Run("failover", func(t *testing.T) { w.failover(t) })
	t.Run("partition", func(t *testing.T) { w.partition(t) })
	t.Run("hub-killed", func(t *testing.T) { w.hubKilled(t) })
	t.Run("member-api-stopped", func(t *testing.T) { w.memberAPIStopped(t) })
}

// crash stops backends the way a crashed pod goes: connections are refused at once, and the
// harness's kubelet marks them not ready a second later.
func (w *world) crash(t *testing.T, bs []*system.Backend) {
	t.Helper()
	for _, b := range bs {
		b.Stop()
	}
	time.AfterFunc(time.Second, func() {
		if t.Context().Err() == nil {
			w.f.SetReady(false, bs...)
		}
	})
}

// waitNotReady waits until wp's route of web's HTTP port lists none of bs as ready.
func (w *world) waitNotReady(t *testing.T, wp *system.Waypoint, bs []*system.Backend) {
	t.Helper()
	w.f.Eventually("the crashed pods not ready in the waypoint's table", 30*time.Second, func() (bool, string) {
		var d table.DebugTable
		if err := wp.Debug(&d); err != nil {
			return false, err.Error()
		}
		for _, r := range d.Routes {
			if r.Service != shop+"/web" || r.Port != system.HTTPPort {
				continue
			}
			for _, e := range r.Endpoints {
				for _, b := range bs {
					if e.Ready && strings.HasPrefix(e.Target, b.Addr.String()+":") {
						return false, e.Target + " still ready"
					}
				}
			}
			return true, ""
		}
		return false, "no route of shop/web"
	})
}

// restore restarts backends and marks them ready.
func (w *world) restore(t *testing.T, bs []*system.Backend) {
	t.Helper()
	for _, b := range bs {
		if err := b.Start(); err != nil {
			t.Fatal(err)
		}
	}
	w.f.SetReady(true, bs...)
}

// timeline records replies of a load run and when each server last answered.
type timeline struct {
	replies []system.Reply
}

// lastSentTo is when the last request a server matching prefix answered was sent, zero if never.
func (tl *timeline) lastSentTo(prefix string) time.Time {
	var last time.Time
	for _, r := range tl.replies {
		if r.OK() && strings.HasPrefix(r.Cluster+"/"+r.Zone, prefix) && r.At.After(last) {
			last = r.At
		}
	}
	return last
}

// firstFrom is when the first answer of a server matching prefix to a request sent after
// since arrived, zero if none.
func (tl *timeline) firstFrom(prefix string, since time.Time) time.Time {
	var first time.Time
	for _, r := range tl.replies {
		if r.OK() && r.At.After(since) && strings.HasPrefix(r.Cluster+"/"+r.Zone, prefix) && (first.IsZero() || r.Done.Before(first)) {
			first = r.Done
		}
	}
	return first
}

// latencies summarizes the latency of requests sent in [since, since+window).
func (tl *timeline) latencies(since time.Time, window time.Duration) string {
	var d []time.Duration
	for _, r := range tl.replies {
		if !r.At.Before(since) && r.At.Before(since.Add(window)) {
			d = append(d, r.Done.Sub(r.At))
		}
	}
	if len(d) == 0 {
		return "none"
	}
	slices.Sort(d)
	return fmt.Sprintf("%d, latency p50 %v p99 %v max %v", len(d), d[len(d)/2].Round(time.Microsecond),
		d[len(d)*99/100].Round(time.Microsecond), d[len(d)-1].Round(time.Microsecond))
}

// count is how many answers came from servers matching prefix.
func (tl *timeline) count(prefix string) int {
	n := 0
	for _, r := range tl.replies {
		if r.OK() && strings.HasPrefix(r.Cluster+"/"+r.Zone, prefix) {
			n++
		}
	}
	return n
}

// recovery is how long after since the last request that failed or took longer than slow
// was sent (zero if none: the traffic never suffered), and the slowest latency after since.
func (tl *timeline) recovery(since time.Time, slow time.Duration) (last, slowest time.Duration) {
	for _, r := range tl.replies {
		if r.At.Before(since) {
			continue
		}
		took := r.Done.Sub(r.At)
		slowest = max(slowest, took)
		if !r.OK() || took > slow {
			last = max(last, r.At.Sub(since))
		}
	}
	return last, slowest
}

func (tl *timeline) failures() []system.Reply {
	var out []system.Reply
	for _, r := range tl.replies {
		if !r.OK() {
			out = append(out, r)
		}
	}
	return out
}

// failover: at 200 requests/s with PreferClose, the client's zone crashes, then all of
// network A; no request fails and traffic moves to the next tier each time (the other zone,
// then network B through HBONE); then everything comes back and traffic returns.
func (w *world) failover(t *testing.T) {
	ctx := t.Context()
	zoneA := w.web["east-1/us-east-1a"]
	netA := slices.Concat(w.web["east-1/us-east-1b"], w.web["central-1/us-central-1a"])
	done := make(chan []system.Reply)
	start := time.Now()
	go func() { done <- w.client.Load(ctx, w.target, 200, 12*time.Second, nil) }()
	time.Sleep(2 * time.Second)
	zoneDown := time.Now()
	w.crash(t, zoneA)
	crashed := time.Now() // the zone's processes have exited
	time.Sleep(4 * time.Second)
	netDown := time.Now()
	w.crash(t, netA)
	tl := &timeline{replies: <-done}
	if fs := tl.failures(); len(fs) > 0 {
		t.Errorf("%d of %d requests failed during failover; first: %+v", len(fs), len(tl.replies), fs[0])
	}
	// Answers to requests sent before the crash may arrive late on a loaded machine; a request
	// sent once the zone's processes have exited cannot be answered by it.
	if last := tl.lastSentTo("east-1/us-east-1a"); last.After(crashed) {
		t.Errorf("zone us-east-1a answered a request sent %v after it crashed", last.Sub(crashed))
	}
	t.Logf("%d requests at 200/s in %v, %d failed", len(tl.replies), time.Since(start).Round(time.Millisecond), len(tl.failures()))
	t.Logf("zone down: first answer from us-east-1b %v after the crash; requests sent in the next second: %s",
		tl.firstFrom("east-1/us-east-1b", zoneDown).Sub(zoneDown).Round(time.Millisecond), tl.latencies(zoneDown, time.Second))
	t.Logf("network A down: first answer from west-1 (HBONE) %v after the crash; requests sent in the next second: %s",
		tl.firstFrom("west-1/", netDown).Sub(netDown).Round(time.Millisecond), tl.latencies(netDown, time.Second))
	w.settle(t, "all traffic on network B", onlyFrom("west-1/"))

	w.restore(t, slices.Concat(zoneA, netA))
	w.settle(t, "traffic back in the client's zone", onlyFrom("east-1/us-east-1a"))
}

// partition: with Any, traffic goes to all three clusters; cutting west-1's waypoint off the
// transit network moves what went to network B onto network A with no failed request: hbone's
// stall watcher finds the peer acknowledging nothing for its StallTimeout and closes the HTTP/2
// connection, and tunnel opens to that peer fail at once until a new connection completes, so
// the requests that were waiting on it are retried on network A well within the client's 5 s.
// Restoring the link brings network B back.
func (w *world) partition(t *testing.T) {
	w.setMode(t, "Any")
	w.seeAll(t, "Any: all three clusters before the partition")
	wb := w.wps["west-1"]
	if err := wb.Pod.SetLink(w.f.Lab.Transit, false); err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	tl := &timeline{replies: w.client.Load(t.Context(), w.target, 100, 8*time.Second, nil)}
	if fs := tl.failures(); len(fs) > 0 {
		t.Errorf("%d of %d requests failed during the partition; first: %+v", len(fs), len(tl.replies), fs[0])
	}
	last, slowest := tl.recovery(cut, time.Second)
	t.Logf("partition: %d of %d requests sent in the 8s after the cut failed; answers from west-1 after the cut: %d; requests sent in the first second: %s; the last request failed or slower than 1s was sent %v after the cut; slowest %v",
		len(tl.failures()), len(tl.replies), tl.count("west-1/"), tl.latencies(cut, time.Second),
		last.Round(time.Millisecond), slowest.Round(time.Millisecond))
	w.settle(t, "traffic on network A only while B is cut off", onlyFrom("east-1/", "central-1/"))
	if err := wb.Pod.SetLink(w.f.Lab.Transit, true); err != nil {
		t.Fatal(err)
	}
	w.seeAll(t, "network B back after the partition")
	w.setMode(t, "PreferClose")
	w.settle(t, "back home", onlyFrom("east-1/us-east-1a"))
}

// memberStatusBound is how soon `meshfedctl status` must show a member whose API server
// stopped as not ready: one probe interval of the lab's hub (1 s) and the probe's timeout (5 s).
// The suite fails on a status that never shows it; the bound itself holds under `make bench`
// (benchbounds), as every speed bound does.
const memberStatusBound = 6 * time.Second

// statusShows waits until member's line of `meshfedctl status` satisfies shows (described by
// what), and logs how long that took; a bound above 0 is enforced under `make bench`.
func (w *world) statusShows(t *testing.T, member string, bound time.Duration, what string, shows func(line string) bool) {
	t.Helper()
	start, limit := time.Now(), 2*time.Minute
	for {
		out, err := w.f.TryCtl("status", "--context", "hub")
		line := system.StatusLine(out, member)
		if err == nil && shows(line) {
			took := time.Since(start).Round(10 * time.Millisecond)
			if bound > 0 && took > bound && benchbounds.Enforced() {
				t.Errorf("meshfedctl status showed %s %s after %s, bound %s: %q", member, what, took, bound, line)
				return
			}
			t.Logf("meshfedctl status showed %s %s after %s: %q", member, what, took, line)
			return
		}
		if time.Since(start) > limit {
			t.Fatalf("meshfedctl status did not show %s %s within %s: %q (%v)\n%s", member, what, limit, line, err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// readyColumn is the READY column of a `meshfedctl status` line.
func readyColumn(line string) string {
	if f := strings.Fields(line); len(f) > 1 {
		return f[1]
	}
	return ""
}

// seeAll samples until every cluster has answered.
func (w *world) seeAll(t *testing.T, what string) {
	t.Helper()
	seen := map[string]bool{}
	w.f.Eventually(what, 60*time.Second, func() (bool, string) {
		got, _ := w.sample(t.Context(), 60)
		for k := range got {
			seen[strings.Split(k, "/")[0]] = true
		}
		return len(seen) == 3, fmt.Sprint(slices.Sorted(maps.Keys(seen)))
	})
}

// hubKilled: SIGKILL the hub (and its embedded store) during traffic: no request fails; after
// a restart the hub converges without deleting anything from the store.
func (w *world) hubKilled(t *testing.T) {
	ctx := t.Context()
	st, err := store.Connect(ctx, w.f.StoreClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	rev, err := st.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan []system.Reply)
	go func() { done <- w.client.Load(ctx, w.target, 200, 6*time.Second, nil) }()
	time.Sleep(time.Second)
	w.f.KillHub()
	time.Sleep(3 * time.Second)
	w.f.StartHub()
	tl := &timeline{replies: <-done}
	if fs := tl.failures(); len(fs) > 0 {
		t.Errorf("%d of %d requests failed while the hub was down; first: %+v", len(fs), len(tl.replies), fs[0])
	}
	// The store is back with the hub: no deletion after rev, and the hub republishes.
	var deleted []string
	w.f.Eventually("the hub running again", 60*time.Second, func() (bool, string) {
		wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		watch, err := st.Watch(wctx, store.NamespacePrefix(shop), rev+1)
		if err != nil {
			return false, err.Error()
		}
		deleted = nil
		for b := range watch.Batches() {
			for _, ev := range b.Events {
				if ev.Type == store.EventDelete {
					deleted = append(deleted, ev.Key.String())
				}
			}
		}
		return true, ""
	})
	if len(deleted) > 0 {
		t.Errorf("the hub restart deleted %v", deleted)
	}
	w.settle(t, "traffic as before", onlyFrom("east-1/us-east-1a"))
}

// memberAPIStopped: west-1's API server stops; traffic that goes to west-1 keeps flowing from
// its stale endpoints; it comes back.
func (w *world) memberAPIStopped(t *testing.T) {
	west := w.f.Member("west-1")
	netA := slices.Concat(w.web["east-1/us-east-1a"], w.web["east-1/us-east-1b"], w.web["central-1/us-central-1a"])
	w.crash(t, netA)
	// Outlier detection can move traffic to west-1 before the crashed pods are marked not ready,
	// and a burst of requests whose retries all meet not yet ejected crashed pods then fails:
	// the load below starts only once the client's waypoint has them as not ready.
	w.waitNotReady(t, w.wps["east-1"], netA)
	w.settle(t, "traffic on west-1", onlyFrom("west-1/"))
	if err := west.Cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	w.statusShows(t, west.Name, memberStatusBound, "not ready, unreachable", func(line string) bool {
		return readyColumn(line) == "False" && strings.Contains(line, "Unreachable")
	})
	ctx := t.Context()
	tl := &timeline{replies: w.client.Load(ctx, w.target, 100, 5*time.Second, nil)}
	if fs := tl.failures(); len(fs) > 0 {
		t.Errorf("%d of %d requests failed with west-1's API server down; first: %+v", len(fs), len(tl.replies), fs[0])
	}
	if err := west.Cluster.Restart(); err != nil {
		t.Fatal(err)
	}
	// Ready once the probe reaches it again, then synced: its endpoints no longer stale.
	w.statusShows(t, west.Name, 0, "ready and synced", func(line string) bool {
		return readyColumn(line) == "True" && !strings.Contains(line, "Stale")
	})
	w.restore(t, netA)
	w.settle(t, "back home", onlyFrom("east-1/us-east-1a"))
}
