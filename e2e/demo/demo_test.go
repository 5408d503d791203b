package demo

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/e2e/system"
)

var duration = flag.Duration("duration", 0, "how long the demo's traffic runs, at least 40s (make demo: 2m; the test suite: 45s)")

func TestMain(m *testing.M) { system.Main(m) }

// TestLocalFederation is the demo. Run it with make demo to see every step.
func TestLocalFederation(t *testing.T) {
	say := func(format string, args ...any) { fmt.Printf("\n==> "+format+"\n", args...) }
	d := *duration
	if d == 0 {
		d = 45 * time.Second
	}
	d = max(d, 40*time.Second)
	ctx, stop := signal.NotifyContext(t.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	say("building a lab of network namespaces, starting 4 API servers, the hub, and joining 3 members with meshfedctl join")
	f := system.Start(t, system.DefaultTopology())
	say("meshfedctl status")
	fmt.Print(f.Ctl("status", "--context", "hub"))

	say("exporting shop/web (scope global, PreferClose) from every member: 2 backends per zone, a waypoint per member")
	backends := map[string][]*system.Backend{}
	for _, m := range f.Members {
		f.Export(m, "shop", "web", "global", map[string]string{wellknown.TrafficDistributionKey: "PreferClose"})
		for _, z := range m.Zones {
			for range 2 {
				backends[m.Name+"/"+z] = append(backends[m.Name+"/"+z], f.AddBackend(m, z, "shop", "web"))
			}
		}
	}
	for _, m := range f.Members {
		f.DeployWaypoint(m, "shop", system.WaypointOptions{})
	}
	client := f.AddClient(f.Member("east-1"), "client")
	say("meshfedctl get globalservices -A")
	fmt.Print(f.Ctl("get", "globalservices", "-A", "--context", "hub"))

	const name = "web.shop.mesh.internal"
	say("names, as a pod in east-1 resolves them through east-1's CoreDNS (meshfed's zones forwarded to meshfed-dns)")
	f.Eventually(name+" answers", 60*time.Second, func() (bool, string) {
		r := client.Get(ctx, name+":80")
		return r.OK(), fmt.Sprintf("%+v", r)
	})
	for _, n := range []string{name, "web.shop.svc.clusterset.local", "web-global.shop.svc.cluster.local", "web.shop.svc.cluster.local"} {
		ip, err := client.Resolve(ctx, n)
		fmt.Printf("  %-34s %v\n", n, orErr(ip, err))
	}
	fmt.Println("  (the first three are the global service; web.shop.svc.cluster.local stays east-1's own web:\n   scope global-only would take that name over too)")

	say("a client in east-1/us-east-1a sends 100 requests/s to http://%s/ through its waypoint for %v (Ctrl-C ends early)", name, d)
	tab := newTable()
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		client.Load(ctx, name+":80", 100, d, tab.add)
	}()
	events := []struct {
		at   time.Duration
		what string
		do   func()
	}{
		{d * 2 / 10, "zone us-east-1a goes down: traffic moves to us-east-1b", func() { crash(f, backends["east-1/us-east-1a"]) }},
		{d * 4 / 10, "all of network A goes down: traffic crosses to west-1 through HBONE", func() {
			crash(f, slices.Concat(backends["east-1/us-east-1b"], backends["central-1/us-central-1a"]))
		}},
		{d * 7 / 10, "everything comes back: traffic returns to the client's zone", func() {
			for _, bs := range backends {
				for _, b := range bs {
					_ = b.Start()
				}
				f.SetReady(true, bs...)
			}
		}},
	}
	start := time.Now()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for running := true; running; {
		select {
		case <-loadDone:
			running = false
		case <-tick.C:
			tab.print(time.Since(start))
			for len(events) > 0 && time.Since(start) >= events[0].at {
				say("%s", events[0].what)
				events[0].do()
				events = events[1:]
			}
		}
	}
	tab.print(time.Since(start))
	say("totals: %d requests, %d failed; the lab, processes and API servers are removed now", tab.total, tab.failedTotal)
	if tab.failedTotal > 0 {
		t.Errorf("%d requests failed", tab.failedTotal)
	}
}

// orErr renders an address, or the error in its place.
func orErr(ip netip.Addr, err error) string {
	if err != nil {
		return err.Error()
	}
	return ip.String()
}

// crash stops backends (connections refused) and marks them not ready a second later, as a
// kubelet would.
func crash(f *system.Federation, bs []*system.Backend) {
	for _, b := range bs {
		b.Stop()
	}
	time.AfterFunc(time.Second, func() {
		if f.Context().Err() == nil {
			f.SetReady(false, bs...)
		}
	})
}

// table counts replies per server since the last print.
type table struct {
	mu                 sync.Mutex
	window             map[string]int
	failed             int
	since              time.Time
	total, failedTotal int
}

func newTable() *table { return &table{window: map[string]int{}, since: time.Now()} }

func (t *table) add(r system.Reply) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total++
	if !r.OK() {
		t.failed++
		t.failedTotal++
		return
	}
	t.window[r.Cluster+"/"+r.Zone]++
}

// print writes one row: requests per second per cluster/zone and failures, then resets.
func (t *table) print(at time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	secs := time.Since(t.since).Seconds()
	if secs < 1 {
		return // too short a window for a rate
	}
	var cols []string
	for _, k := range []string{"east-1/us-east-1a", "east-1/us-east-1b", "central-1/us-central-1a", "west-1/us-west-1a", "west-1/us-west-1b"} {
		cols = append(cols, fmt.Sprintf("%s %5.1f", k, float64(t.window[k])/secs))
	}
	fmt.Printf("  t=%3.0fs  req/s: %s  | failed %d\n", at.Seconds(), strings.Join(cols, "  "), t.failed)
	t.window, t.failed, t.since = map[string]int{}, 0, time.Now()
}
