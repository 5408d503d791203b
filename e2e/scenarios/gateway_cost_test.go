package scenarios

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/cmd/meshfed-bench/benchproc"
	"github.com/meshfed/meshfed/e2e/system"
	"github.com/meshfed/meshfed/federation/store"
)

// gatewayCostEnv runs TestGatewayCost: a namespace count measures that many namespaces only
// (for development), any other value the counts the README's comparison quotes,
// gatewayCostSizes.
const gatewayCostEnv = "MESHFED_BENCH_GATEWAY_COST"

// gatewayCostSizes are the namespace counts measured: 10 and 100.
var gatewayCostSizes = []int{10, 100}

const (
	// costSettle is the wait after every waypoint is ready before memory is read.
	costSettle = 5 * time.Second
	// costIdle is how long the idle CPU time is measured.
	costIdle = 30 * time.Second
	// costRequests are sent per namespace from an east-1 client to west-1's service.
	costRequests = 20
	// costChanges is about how many EndpointSlice changes the burst makes, whatever the number
	// of namespaces (rounded up to an odd number of passes over the namespaces), at
	// costChangeRate per second.
	costChanges    = 200
	costChangeRate = 20
	// costPropagation bounds the wait for the burst's last changes to reach the store; the
	// window then runs costBurstSettle more, for the waypoints to apply them.
	costPropagation = 2 * time.Minute
	costBurstSettle = 3 * time.Second
	// podsPerNetwork is how many pods a netlab network holds: a /24 hands out .2 to .254.
	podsPerNetwork = 253
	// serviceIPsPerMember is how many ClusterIPs a member's API server allocates from
	// system.ServiceCIDR, a /16 (less the network and broadcast addresses).
	serviceIPsPerMember = 1<<16 - 2
)

// TestGatewayCost measures what serving N namespaces costs in each waypoint mode, at N = 10 and
// 100: N waypoint processes per cluster (DeployWaypoint), or one shared gateway per
// cluster in meshfed-system (DeployGateway). Both modes get the same fixture: every namespace
// exports the global service web from west-1 and api from east-1, one backend each. (Two
// backends of web, as a first draft had it, do not fit: at 100 namespaces west-1's network
// would need 100 waypoint pods, 200 backend pods and its DNS pod, and a netlab network is a /24.)
// Each mode runs in a federation of its own (east-1 on net-a, west-1 on net-b: every call
// crosses networks through HBONE), one after the other in the same run; the order alternates
// from one N to the next. What is measured, over the waypoint or gateway processes of both
// clusters:
//
//   - time to ready: all of them stopped, started again at once, until the last /readyz is 200;
//     and the harness's deploy, one after the other (certificates, Services, start, ready);
//   - memory: the sums of VmRSS and of RssAnon (without the binary's pages, which the processes
//     share) after a settle, and the sum of VmHWM (each process's peak) at the end, after the
//     traffic and the burst;
//   - CPU (utime+stime): over costIdle idle, and over a burst of EndpointSlice changes (web's
//     backend in every namespace flipped not ready and back, costChangeRate per second) until
//     the store has the last and costBurstSettle more, less the idle rate, per 100 changes;
//   - the store TCP connections the processes hold, the store watches (one per namespace table
//     in both modes, by design: table.Table.Run), and the HBONE addresses published;
//   - traffic: costRequests requests per namespace from an east-1 client to west-1's web, which
//     must all succeed.
//
// It fails when a waypoint or gateway is never ready or a request fails, never on a figure: the
// machine is shared. Skipped unless MESHFED_BENCH_GATEWAY_COST is set (make bench).
func TestGatewayCost(t *testing.T) {
	sizes := costSizes(t)
	for _, n := range sizes {
		checkBudget(t, n)
	}
	var all []costPair
	for i, n := range sizes {
		var pair costPair
		order := []bool{false, true}
		if i%2 == 1 {
			order = []bool{true, false}
		}
		for _, shared := range order {
			var got costFigures
			if !t.Run(fmt.Sprintf("%s-%d", modeName(shared), n), func(t *testing.T) { got = measureGatewayCost(t, n, shared) }) {
				t.FailNow()
			}
			if shared {
				pair.shared = got
			} else {
				pair.perNS = got
			}
		}
		t.Logf("gateway cost at %d namespaces (modes run %s then %s):\n%s", n, modeName(order[0]), modeName(order[1]), pair.table())
		all = append(all, pair)
	}
	if len(all) == 2 {
		t.Logf("marginal cost of one namespace more, from %d to %d namespaces:\n%s", all[0].perNS.n, all[1].perNS.n, marginal(all[0], all[1]))
	}
}

// costSizes are the namespace counts to measure, from gatewayCostEnv; the test is skipped
// without it.
func costSizes(t *testing.T) []int {
	t.Helper()
	v := os.Getenv(gatewayCostEnv)
	if v == "" {
		t.Skipf("a heavy measurement (up to 200 waypoint processes): set %s=1 (or a namespace count) to run it", gatewayCostEnv)
	}
	if n, err := strconv.Atoi(v); err == nil && n > 1 {
		return []int{n}
	}
	return gatewayCostSizes
}

func modeName(shared bool) string {
	if shared {
		return "shared"
	}
	return "per-namespace"
}

// costFigures are what one mode cost at one number of namespaces.
type costFigures struct {
	n         int
	processes int
	deploy    time.Duration // harness, one by one
	coldStart time.Duration // all at once → every /readyz 200
	rss       uint64        // sum of VmRSS after the settle
	anon      uint64        // sum of RssAnon after the settle
	hwm       uint64        // sum of VmHWM at the end
	idleCPU   float64       // seconds over costIdle
	burstCPU  float64       // seconds over burstTime
	burstTime time.Duration
	changes   int
	storeRevs int64 // store revisions during the burst
	storeConn int   // established TCP connections to the store
	watches   int   // store watches, by design
	hbone     int   // distinct HBONE addresses published, both clusters
	requests  int   // requests that succeeded
	loadStart string
	loadEnd   string
}

// changeCPU is the CPU seconds per 100 changes of the burst, the idle rate subtracted.
func (c costFigures) changeCPU() float64 {
	if c.changes == 0 {
		return 0
	}
	net := c.burstCPU - c.idleCPU/costIdle.Seconds()*c.burstTime.Seconds()
	return net / float64(c.changes) * 100
}

// measureGatewayCost builds a federation with n namespaces, runs them in one mode and measures.
func measureGatewayCost(t *testing.T, n int, shared bool) costFigures {
	phase := time.Now()
	f := system.Start(t, costTopology())
	east, west := f.Member("east-1"), f.Member("west-1")
	namespaces := make([]string, n)
	web := make(map[string]*system.Backend, n) // west-1's backend of web, by namespace
	for i := range namespaces {
		ns := fmt.Sprintf("gc%03d", i)
		namespaces[i] = ns
		f.Export(west, ns, "web", "global", nil)
		web[ns] = f.AddBackend(west, west.Zones[0], ns, "web")
		f.Export(east, ns, "api", "global", nil)
		f.AddBackend(east, east.Zones[0], ns, "api")
	}
	t.Logf("federation and fixture (%d namespaces, %d backends) in %v", n, 2*n, time.Since(phase).Round(time.Second))
	fig := costFigures{n: n, watches: 2 * n, loadStart: loadAverage(t)}

	begin := time.Now()
	var all []*system.Waypoint
	// At once when the test ends, failed or not, not one drain after the other at the cleanups.
	defer func() { system.StopWaypoints(all...) }()
	entry := make(map[string]*system.Waypoint, n) // what east-1's client of each namespace connects to
	if shared {
		gwEast := f.DeployGateway(east, wellknown.SystemNamespace, namespaces, system.WaypointOptions{})
		gwWest := f.DeployGateway(west, wellknown.SystemNamespace, namespaces, system.WaypointOptions{})
		all = []*system.Waypoint{gwEast, gwWest}
		for _, ns := range namespaces {
			entry[ns] = gwEast
		}
	} else {
		for _, ns := range namespaces {
			entry[ns] = f.DeployWaypoint(east, ns, system.WaypointOptions{})
			all = append(all, entry[ns], f.DeployWaypoint(west, ns, system.WaypointOptions{}))
		}
	}
	fig.deploy = time.Since(begin)
	fig.processes = len(all)
	t.Logf("deployed %d %s processes in %v", len(all), modeName(shared), fig.deploy.Round(time.Second))

	fig.coldStart = f.RestartWaypoints(3*time.Minute, all...)
	procs := make([]*system.Process, len(all))
	for i, w := range all {
		procs[i] = w.Proc
		if c, err := w.Proc.Command(); err != nil || c != "meshfed-waypoin" { // comm is 15 bytes
			t.Fatalf("%s: pid %d is %q (%v), not meshfed-waypoint", w.Proc.Name, w.Proc.PID(), c, err)
		}
	}

	time.Sleep(costSettle)
	settled := sumUsage(t, procs)
	fig.rss, fig.anon = settled.RSS, settled.Anon
	time.Sleep(costIdle)
	fig.idleCPU = sumUsage(t, procs).CPU - settled.CPU

	u, err := url.Parse(f.StoreURL)
	if err != nil {
		t.Fatal(err)
	}
	storePort, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range procs {
		c, err := p.TCPConnections(storePort)
		if err != nil {
			t.Fatal(err)
		}
		fig.storeConn += c
	}

	st, err := f.ConnectStore()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	fig.hbone = publishedAddresses(t, f, st, namespaces)
	if want := 2; shared && fig.hbone != want {
		t.Errorf("%d HBONE addresses published for east-1 and west-1, want %d (a gateway each)", fig.hbone, want)
	}

	phase = time.Now()
	fig.requests = checkTraffic(t, f, entry, namespaces)
	t.Logf("%d requests ok in %v", fig.requests, time.Since(phase).Round(time.Millisecond))
	burst(t, f, st, procs, namespaces, web, &fig)
	t.Logf("burst of %d changes: %.2f s CPU over %v", fig.changes, fig.burstCPU, fig.burstTime.Round(time.Millisecond))

	end := sumUsage(t, procs)
	fig.hwm = end.HWM
	fig.loadEnd = loadAverage(t)
	return fig
}

// costTopology is east-1 (net-a) and west-1 (net-b) of the default topology.
func costTopology() []system.MemberSpec {
	var out []system.MemberSpec
	for _, s := range system.DefaultTopology() {
		if s.Name == "east-1" || s.Name == "west-1" {
			out = append(out, s)
		}
	}
	return out
}

// checkBudget fails the test, before anything starts, when the per-namespace mode with n
// namespaces needs more than the harness has:
//   - pods on one network, netlab giving each a /24: per member a waypoint pod and a backend pod
//     per namespace and the DNS pod, east-1 also the client; on transit the waypoint pods of
//     both members;
//   - ClusterIPs in one member: per namespace the Service it exports, the two derived Services
//     (web-global and api-global: global services are imported everywhere, the exporter
//     included) and the waypoint Service; then kubernetes, meshfed-dns and a margin of two.
//
// 100 namespaces need 404 ClusterIPs, which system.ServiceCIDR holds; a netlab network's pods
// are the bound that counts.
func checkBudget(t *testing.T, n int) {
	t.Helper()
	if need := max(n+n+1+1, 2*n); need > podsPerNetwork {
		t.Fatalf("%d namespaces need %d pods on one network; a netlab network holds %d", n, need, podsPerNetwork)
	}
	if need := 4*n + 4; need > serviceIPsPerMember {
		t.Fatalf("%d namespaces need %d ClusterIPs in a member (4 Services per namespace), its API server has %d (system.ServiceCIDR); at most %d namespaces fit",
			n, need, serviceIPsPerMember, (serviceIPsPerMember-4)/4)
	}
}

func sumUsage(t *testing.T, procs []*system.Process) benchproc.Usage {
	t.Helper()
	u, err := system.SumUsage(procs...)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// loadAverage is the 1, 5 and 15 minute load averages, as uptime prints them.
func loadAverage(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		t.Fatalf("/proc/loadavg: %q", b)
	}
	return strings.Join(f[:3], " ")
}

// publishedAddresses waits until the store has a waypoints record with an address for east-1
// and west-1 in every namespace, and returns how many distinct addresses they publish.
func publishedAddresses(t *testing.T, f *system.Federation, st *store.Client, namespaces []string) int {
	t.Helper()
	addrs := map[string]bool{}
	for _, ns := range namespaces {
		f.Eventually("waypoints published for "+ns, time.Minute, func() (bool, string) {
			l, err := st.List(t.Context(), store.NamespacePrefix(ns))
			if err != nil {
				return false, err.Error()
			}
			clusters := map[string]bool{}
			for _, r := range l.Waypoints() {
				if len(r.Addresses) > 0 {
					clusters[r.Cluster] = true
				}
			}
			if !clusters["east-1"] || !clusters["west-1"] {
				return false, fmt.Sprintf("%+v", l.Waypoints())
			}
			for _, r := range l.Waypoints() {
				for _, a := range r.Addresses {
					addrs[r.Cluster+" "+a] = true
				}
			}
			return true, ""
		})
	}
	return len(addrs)
}

// checkTraffic sends costRequests requests per namespace from a client in east-1, through the
// east-1 waypoint or gateway entry[ns], to west-1's web, and fails the test unless every one is
// answered 200 by west-1. It returns how many were.
func checkTraffic(t *testing.T, f *system.Federation, entry map[string]*system.Waypoint, namespaces []string) int {
	t.Helper()
	east := f.Member("east-1")
	c := f.AddClient(east, "gc-client")
	// Each request is bounded by the client's timeout; all of them by this.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second+time.Duration(len(namespaces))*5*time.Second)
	defer cancel()
	ok := 0
	for _, ns := range namespaces {
		target := c.Target(entry[ns], ns, "web", system.HTTPPort)
		for i := range costRequests {
			if r := c.Get(ctx, target); !r.OK() || r.Cluster != "west-1" {
				t.Fatalf("request %d to %s/web through %s: %+v, want 200 from west-1", i, ns, entry[ns].Proc.Name, r)
			}
			ok++
		}
	}
	return ok
}

// burst flips west-1's backend of web in every namespace not ready and back, an odd number of
// passes over the namespaces so that the last state (not ready) differs from the first, at
// costChangeRate per second; waits until the store has the last state everywhere and
// costBurstSettle more; and records the processes' CPU time over that window.
func burst(t *testing.T, f *system.Federation, st *store.Client, procs []*system.Process, namespaces []string, web map[string]*system.Backend, fig *costFigures) {
	t.Helper()
	passes := max(1, costChanges/len(namespaces)) | 1
	rev0, err := st.Revision(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	before := sumUsage(t, procs)
	begin := time.Now()
	tick := time.NewTicker(time.Second / costChangeRate)
	defer tick.Stop()
	for p := range passes {
		ready := p%2 == 1
		for _, ns := range namespaces {
			<-tick.C
			f.SetReady(ready, web[ns])
			fig.changes++
		}
	}
	for _, ns := range namespaces {
		f.Eventually("west-1's web in "+ns+" not ready in the store", costPropagation, func() (bool, string) {
			l, err := st.List(t.Context(), store.NamespacePrefix(ns))
			if err != nil {
				return false, err.Error()
			}
			for _, r := range l.Endpoints() {
				if r.Cluster != "west-1" || r.Name != "web" {
					continue
				}
				for _, e := range r.Endpoints {
					if e.Ready {
						return false, fmt.Sprintf("%+v", r.Endpoints)
					}
				}
			}
			return true, ""
		})
	}
	time.Sleep(costBurstSettle)
	fig.burstCPU = sumUsage(t, procs).CPU - before.CPU
	fig.burstTime = time.Since(begin)
	rev1, err := st.Revision(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	fig.storeRevs = rev1 - rev0
}

// costPair is both modes at one number of namespaces.
type costPair struct{ perNS, shared costFigures }

const mib = 1 << 20

// table is the two modes side by side, with shared/per-namespace.
func (p costPair) table() string {
	a, b := p.perNS, p.shared
	var sb strings.Builder
	w := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
	_, _ = fmt.Fprintf(w, "figure (N=%d)\tper-namespace\tshared\tshared/per-ns\t\n", a.n)
	row := func(name, format string, x, y float64) {
		ratio := "-"
		if x != 0 {
			ratio = fmt.Sprintf("%.3f", y/x)
		}
		_, _ = fmt.Fprintf(w, "%s\t"+format+"\t"+format+"\t%s\t\n", name, x, y, ratio)
	}
	row("waypoint processes", "%.0f", float64(a.processes), float64(b.processes))
	row("time to ready, all started at once (s)", "%.2f", a.coldStart.Seconds(), b.coldStart.Seconds())
	row("deploy, harness one by one (s)", "%.1f", a.deploy.Seconds(), b.deploy.Seconds())
	row("RSS after ready+settle, sum (MiB)", "%.1f", float64(a.rss)/mib, float64(b.rss)/mib)
	row("RSS per namespace (MiB)", "%.2f", float64(a.rss)/mib/float64(a.n), float64(b.rss)/mib/float64(b.n))
	row("anonymous RSS (RssAnon), sum (MiB)", "%.1f", float64(a.anon)/mib, float64(b.anon)/mib)
	row("peak RSS, sum of VmHWM (MiB)", "%.1f", float64(a.hwm)/mib, float64(b.hwm)/mib)
	row(fmt.Sprintf("CPU idle over %v (s)", costIdle), "%.2f", a.idleCPU, b.idleCPU)
	row("CPU during burst window (s)", "%.2f", a.burstCPU, b.burstCPU)
	row("burst window (s)", "%.1f", a.burstTime.Seconds(), b.burstTime.Seconds())
	row("EndpointSlice changes", "%.0f", float64(a.changes), float64(b.changes))
	row("store revisions during burst", "%.0f", float64(a.storeRevs), float64(b.storeRevs))
	row("CPU per 100 changes, idle subtracted (s)", "%.3f", a.changeCPU(), b.changeCPU())
	row("store TCP connections (measured)", "%.0f", float64(a.storeConn), float64(b.storeConn))
	row("store watches (by design)", "%.0f", float64(a.watches), float64(b.watches))
	row("HBONE addresses published (both clusters)", "%.0f", float64(a.hbone), float64(b.hbone))
	row("requests east-1 → west-1 ok", "%.0f", float64(a.requests), float64(b.requests))
	_, _ = fmt.Fprintf(w, "load average at start\t%s\t%s\t\t\n", a.loadStart, b.loadStart)
	_, _ = fmt.Fprintf(w, "load average at end\t%s\t%s\t\t\n", a.loadEnd, b.loadEnd)
	_ = w.Flush()
	return sb.String()
}

// marginal is what one namespace more costs in each mode, between two sizes.
func marginal(small, large costPair) string {
	var sb strings.Builder
	w := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
	_, _ = fmt.Fprintf(w, "per namespace added\tper-namespace\tshared\t\n")
	d := float64(large.perNS.n - small.perNS.n)
	for _, m := range []struct {
		name string
		of   func(costFigures) float64
	}{
		{"RSS (MiB)", func(c costFigures) float64 { return float64(c.rss) / mib }},
		{"anonymous RSS (MiB)", func(c costFigures) float64 { return float64(c.anon) / mib }},
		{"peak RSS (MiB)", func(c costFigures) float64 { return float64(c.hwm) / mib }},
		{fmt.Sprintf("CPU idle over %v (ms)", costIdle), func(c costFigures) float64 { return c.idleCPU * 1000 }},
		{"time to ready (ms)", func(c costFigures) float64 { return float64(c.coldStart.Milliseconds()) }},
	} {
		_, _ = fmt.Fprintf(w, "%s\t%.2f\t%.2f\t\n", m.name,
			(m.of(large.perNS)-m.of(small.perNS))/d, (m.of(large.shared)-m.of(small.shared))/d)
	}
	_ = w.Flush()
	return sb.String()
}
