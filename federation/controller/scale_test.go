package controller

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/federation/store/embedded"
	"github.com/meshfed/meshfed/internal/testport"
)

// The scale of TestScale20x1000x10: every cluster exports the same services (spread over
// scaleNamespaces namespaces), each with scaleEndpoints endpoints per cluster.
const (
	scaleClusters   = 20
	scaleServices   = 1000
	scaleEndpoints  = 10
	scaleNamespaces = 20
	scaleNodes      = 30 // nodes per cluster, spread over the region's three zones
)

var scaleRegions = []string{"us-east-1", "eu-west-1", "ap-south-1"}

// TestScale20x1000x10 runs the federation loop's compute-and-write path (store.View → merge.Merge
// → AllocatePorts → desired records → Federation.apply, with the merge and record memos the
// hub keeps between passes) on synthetic exports of 20 clusters × 1,000 services × 10
// endpoints against a real embedded etcd, and logs the figures: initial sync time, the writes
// of an unchanged pass (must be none) and of one endpoint change, peak RSS (hub and its
// embedded etcd share the process, as with the default embedded store), Go heap and the
// store's size on disk. It writes 21,020 keys (200,000 endpoints); about 10 s on 2 shared
// cores. Skipped with -short.
func TestScale20x1000x10(t *testing.T) {
	if testing.Short() {
		t.Skip("scale test: writes 21,020 keys (200,000 endpoints) to an embedded etcd")
	}
	runScale(t, scaleClusters)
}

// scaleRun is what runScale measured at one size that TestScaleCurve tabulates.
type scaleRun struct {
	clusters      int
	initial       scalePass
	ready, moved  scalePass
	hwm, heapPeak uint64
}

// scaleHub is the hub side of the scale tests: an embedded etcd, a fenced writer and a
// Federation whose passes take synthetic exports in place of the members' snapshots.
type scaleHub struct {
	f        *Federation
	w        *store.Writer
	cli      *store.Client
	raw      *clientv3.Client // keys-only reads of what a pass wrote
	dataDir  string
	clusters []model.Cluster
	states   []MemberState
	heapPeak uint64
}

// newScaleHub starts the store and the federation for nClusters members.
func newScaleHub(t *testing.T, nClusters int) *scaleHub {
	ctx := t.Context()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	h := &scaleHub{dataDir: t.TempDir()}
	srv, err := embedded.Start(ctx, embedded.Config{
		DataDir:   h.dataDir,
		ClientURL: "http://127.0.0.1:" + strconv.Itoa(scaleFreePort(t)),
		PeerURL:   "http://127.0.0.1:" + strconv.Itoa(scaleFreePort(t)),
		Logger:    log,
	})
	if err != nil {
		t.Fatalf("embedded.Start: %v", err)
	}
	t.Cleanup(srv.Close) // registered first, so it runs after the client is closed
	h.cli, err = store.Connect(ctx, store.ClientConfig{Endpoints: srv.Endpoints(), Logger: log, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { _ = h.cli.Close() })
	h.raw, err = clientv3.New(clientv3.Config{Endpoints: srv.Endpoints(), DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("etcd client: %v", err)
	}
	t.Cleanup(func() { _ = h.raw.Close() })
	h.w = store.NewWriter(h.cli, store.WriterOptions{Identity: "hub-0", Logger: log})
	if err := h.w.Campaign(ctx); err != nil {
		t.Fatalf("Campaign: %v", err)
	}
	// apply uses only the store writer and the logger; the hub client is not needed.
	h.f = NewFederation(nil, h.cli, h.w, FederationOptions{Ports: DefaultPortRange}, log)
	h.clusters, h.states = scaleClustersAndStates(nClusters)
	h.sampleHeap()
	return h
}

// sampleHeap keeps the largest Go heap seen.
func (h *scaleHub) sampleHeap() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h.heapPeak = max(h.heapPeak, ms.HeapAlloc)
}

// pass runs what a store pass runs after gathering (store.View → merge → ports → records →
// apply, with the federation's memos), with exports in place of the members' snapshots.
func (h *scaleHub) pass(t *testing.T, name string, exports []model.ClusterExport, same map[string]bool) scalePass {
	t.Helper()
	ctx, f, w := t.Context(), h.f, h.w
	var p scalePass
	before := w.Stats()
	start := time.Now()
	previous, snap, err := f.views.namespaces.Refresh(ctx)
	if err != nil {
		t.Fatalf("%s: Refresh: %v", name, err)
	}
	p.list = time.Since(start)
	p.fetched = f.views.namespaces.Fetched()
	mark := time.Now()
	res := merge.Merge(merge.Input{Clusters: h.clusters, Exports: exports, Memo: &f.memo, Same: same})
	p.merge = time.Since(mark)
	if len(res.Problems) > 0 {
		t.Fatalf("%s: merge problems: %v", name, res.Problems[0])
	}
	mark = time.Now()
	ports, err := AllocatePorts(f.opts.Ports, servicePorts(previous.Services()), res.GlobalServices(), nil)
	if err != nil {
		t.Fatalf("%s: AllocatePorts: %v", name, err)
	}
	p.ports = time.Since(mark)
	d := desiredRecords(&res, h.states, ports, &f.records)
	p.desired = time.Since(mark)
	h.sampleHeap()
	mark = time.Now()
	if failed, err := f.apply(ctx, d, previous.Services(), snap, nil, changesOf(f.views.namespaces)); err != nil || len(failed) != 0 {
		t.Fatalf("%s: apply: %v, not written %v", name, err, failed)
	}
	p.apply = time.Since(mark)
	p.total = time.Since(start)
	h.sampleHeap()
	after := w.Stats()
	p.keys = after.KeysPut + after.KeysDeleted - before.KeysPut - before.KeysDeleted
	p.bytes = after.BytesWritten - before.BytesWritten
	p.txns = after.Txns - before.Txns
	p.services, p.endpointKeys = len(d.Services), 0
	for _, recs := range d.Endpoints {
		p.endpointKeys += len(recs)
	}
	return p
}

// runScale runs the scale test's passes at clusters × scaleServices × scaleEndpoints and
// checks what they write.
func runScale(t *testing.T, nClusters int) scaleRun {
	ctx := t.Context()
	rssStart := scaleProcStatus(t, "VmRSS")
	h := newScaleHub(t, nClusters)
	cli, dataDir := h.cli, h.dataDir
	exports := scaleExports(h.clusters)
	pass := func(name string, same map[string]bool) scalePass { return h.pass(t, name, exports, same) }

	initial := pass("initial sync", nil)
	wantKeys := int64(nClusters + scaleServices + nClusters*scaleServices)
	if initial.keys != wantKeys {
		t.Errorf("initial sync wrote %d keys, want %d", initial.keys, wantKeys)
	}

	unchanged := pass("unchanged pass", sameBut(h.clusters))
	if unchanged.keys != 0 || unchanged.txns != 0 {
		t.Errorf("pass without any change wrote %d keys in %d txns, want none", unchanged.keys, unchanged.txns)
	}

	// One endpoint of one service in one cluster becomes not ready.
	ready := scaleChange(t, ctx, h, func(name string) scalePass { return pass(name, sameBut(h.clusters, 7%nClusters)) }, "readiness change", func() {
		ep := &scaleEndpointsToChange(exports, 7%nClusters, 123)[4]
		ep.Ready, ep.Serving = false, false
	})
	// One pod of one service in one cluster replaced by a pod with another address (ready, same
	// node): the exporter's counts do not change.
	moved := scaleChange(t, ctx, h, func(name string) scalePass { return pass(name, sameBut(h.clusters, 11%nClusters)) }, "pod replaced", func() {
		scaleEndpointsToChange(exports, 11%nClusters, 456)[2].Address = "10.250.0.1"
	})

	if dir := os.Getenv("MESHFED_SCALE_PROFILE"); dir != "" {
		profileChangePasses(t, dir, nClusters, exports, func() scalePass {
			return pass("profiled change", sameBut(h.clusters, 7%nClusters))
		})
	}

	// DESIGN §4: "an endpoint change in one cluster rewrites that cluster's slice of that
	// service, nothing else". Both changes rewrite exactly that slice (the service record keeps
	// no endpoint counts, so a readiness flip does not touch it).
	if ready.pass.keys != int64(len(ready.written)) || moved.pass.keys != int64(len(moved.written)) {
		t.Errorf("writer counted %d/%d keys, store shows %v/%v", ready.pass.keys, moved.pass.keys, ready.written, moved.written)
	}
	wantReady := []string{
		store.EndpointsKey(scaleNamespace(123), wellknown.DefaultSegmentDomain, scaleServiceName(123), scaleClusterName(7%nClusters)).String(),
	}
	if !slices.Equal(ready.written, wantReady) {
		t.Errorf("readiness change wrote %v, want exactly %v", ready.written, wantReady)
	}
	wantMoved := store.EndpointsKey(scaleNamespace(456), wellknown.DefaultSegmentDomain, scaleServiceName(456), scaleClusterName(11%nClusters)).String()
	if len(moved.written) != 1 || moved.written[0] != wantMoved {
		t.Errorf("pod replacement wrote %v, want exactly [%s]", moved.written, wantMoved)
	}

	rev, err := cli.Revision(ctx)
	if err != nil {
		t.Fatalf("Revision: %v", err)
	}
	dbBytes, dirBytes := scaleDiskUsage(t, dataDir)
	h.sampleHeap()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	hwm := scaleProcStatus(t, "VmHWM")

	t.Logf("scale: %d clusters × %d services × %d endpoints = %d endpoints; %d service keys, %d endpoint keys, %d cluster keys",
		nClusters, scaleServices, scaleEndpoints, nClusters*scaleServices*scaleEndpoints, initial.services, initial.endpointKeys, nClusters)
	t.Logf("%-18s %9s %8s %8s %8s %8s %8s %7s %6s %11s", "pass", "total", "list", "read", "merge", "desired", "apply", "keys", "txns", "bytes")
	for _, r := range []struct {
		name string
		p    scalePass
	}{{"initial sync", initial}, {"unchanged", unchanged}, {"readiness change", ready.pass}, {"pod replaced", moved.pass}} {
		t.Logf("%-18s %9s %8s %8d %8s %8s %8s %7d %6d %11d", r.name, scaleDur(r.p.total), scaleDur(r.p.list), r.p.fetched, scaleDur(r.p.merge), scaleDur(r.p.desired), scaleDur(r.p.apply), r.p.keys, r.p.txns, r.p.bytes)
	}
	t.Logf("readiness change wrote %v", ready.written)
	t.Logf("pod replaced wrote     %v", moved.written)
	t.Logf("peak RSS (VmHWM, hub + embedded etcd) %s; RSS at test start %s", scaleMiB(hwm), scaleMiB(rssStart))
	t.Logf("Go heap: peak HeapAlloc sampled %s, HeapAlloc now %s, Sys %s, TotalAlloc %s, NumGC %d",
		scaleMiB(h.heapPeak), scaleMiB(ms.HeapAlloc), scaleMiB(ms.Sys), scaleMiB(ms.TotalAlloc), ms.NumGC)
	t.Logf("store: revision %d, bbolt db file %s, data dir (db + wal + snap) %s", rev, scaleMiB(dbBytes), scaleMiB(dirBytes))
	return scaleRun{
		clusters: nClusters, initial: initial, ready: ready.pass, moved: moved.pass, hwm: hwm, heapPeak: h.heapPeak,
	}
}

// sameBut is merge.Input.Same for a pass after the given clusters (by position) changed: the
// hub names the members whose caches saw no event since the last pass.
func sameBut(clusters []model.Cluster, changed ...int) map[string]bool {
	same := make(map[string]bool, len(clusters))
	for i, c := range clusters {
		if !slices.Contains(changed, i) {
			same[c.Name] = true
		}
	}
	return same
}

// scalePass holds one pass's figures.
type scalePass struct {
	total, list, merge, desired, apply time.Duration
	// ports is the part of desired that allocates the waypoint ports.
	ports                  time.Duration
	keys, bytes, txns      int64
	services, endpointKeys int
	// fetched are the values the pass's read of the store read (store.View.Fetched).
	fetched int
}

// scaleEndpointsToChange returns a copy of cluster c's endpoints of service s, in place of
// the export's: the hub's member connections hand a merge a new slice when a Service's
// EndpointSlices change, and the same slice while they do not (merge.Memo).
func scaleEndpointsToChange(exports []model.ClusterExport, c, s int) []model.Endpoint {
	e := &exports[scaleExportIndex(c, s)]
	e.Endpoints = slices.Clone(e.Endpoints)
	return e.Endpoints
}

// scaleChanged is a pass after a change and the keys it wrote, as the store shows them.
type scaleChanged struct {
	pass    scalePass
	written []string
}

// scaleChange applies change to the exports, runs a pass and lists the keys whose mod revision
// is newer than the store's revision before the pass (keys only: decoding the whole store to
// find them would weigh on the peak RSS the test measures).
func scaleChange(t *testing.T, ctx context.Context, h *scaleHub, pass func(string) scalePass, name string, change func()) scaleChanged {
	t.Helper()
	rev, err := h.cli.Revision(ctx)
	if err != nil {
		t.Fatalf("%s: Revision: %v", name, err)
	}
	change()
	out := scaleChanged{pass: pass(name)}
	for _, prefix := range []string{store.ClustersPrefix, store.NamespacesPrefix} {
		resp, err := h.raw.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithMinModRev(rev+1))
		if err != nil {
			t.Fatalf("%s: list %s: %v", name, prefix, err)
		}
		for _, kv := range resp.Kvs {
			if k, err := store.ParseKey(string(kv.Key)); err == nil && k.Chunk == "" {
				out.written = append(out.written, k.String())
			}
		}
	}
	return out
}

func scaleClusterName(c int) string { return fmt.Sprintf("cluster-%02d", c) }
func scaleNamespace(s int) string   { return fmt.Sprintf("ns-%02d", s%scaleNamespaces) }
func scaleServiceName(s int) string { return fmt.Sprintf("svc-%04d", s) }

// scaleExportIndex is the position of cluster c's export of service s in scaleExports.
func scaleExportIndex(c, s int) int { return c*scaleServices + s }

// scaleClustersAndStates returns the member clusters (two networks, three regions) and their
// states: all ready, with a fixed last sync so that an unchanged pass writes nothing.
func scaleClustersAndStates(n int) ([]model.Cluster, []MemberState) {
	lastSync := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	var clusters []model.Cluster
	var states []MemberState
	for c := range n {
		cl := model.Cluster{
			Name:    scaleClusterName(c),
			Segment: "default",
			Network: []string{"net-a", "net-b"}[c%2],
			Region:  scaleRegions[c%len(scaleRegions)],
		}
		clusters = append(clusters, cl)
		states = append(states, MemberState{Cluster: cl, Ready: true, LastSync: lastSync})
	}
	return clusters, states
}

// scaleExports returns every cluster's exports, as member.Exports would build them: scope
// global, two ports, endpoints on the cluster's nodes with network, region, zone, node and
// cluster set, pod addresses unique per cluster.
func scaleExports(clusters []model.Cluster) []model.ClusterExport {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]model.ClusterExport, 0, len(clusters)*scaleServices)
	for c, cl := range clusters {
		for s := range scaleServices {
			eps := make([]model.Endpoint, scaleEndpoints)
			for i := range eps {
				n := s*scaleEndpoints + i
				node := (s + i) % scaleNodes
				eps[i] = model.Endpoint{
					Address: fmt.Sprintf("10.%d.%d.%d", 100+c, n/250, n%250+1),
					Ports:   []model.EndpointPort{{Name: "grpc", Port: 9090}, {Name: "http", Port: 8080}},
					Locality: model.Locality{
						Network: cl.Network, Region: cl.Region, Zone: fmt.Sprintf("%s%c", cl.Region, 'a'+node%3),
						Node: fmt.Sprintf("%s-node-%02d", cl.Name, node), Cluster: cl.Name,
					},
					Ready: true, Serving: true,
				}
			}
			out = append(out, model.ClusterExport{
				Cluster: cl.Name, Namespace: scaleNamespace(s), Name: scaleServiceName(s),
				Scope: model.ScopeGlobal, Created: created.Add(time.Duration(c) * time.Hour),
				Type: model.ServiceTypeClusterSetIP,
				Ports: []model.Port{
					{Name: "grpc", Port: 9090, Protocol: "TCP", AppProtocol: "grpc"},
					{Name: "http", Port: 80, Protocol: "TCP", AppProtocol: "http"},
				},
				Distribution: model.Distribution{Mode: model.DefaultBackendMode},
				Endpoints:    eps,
			})
		}
	}
	return out
}

// scaleFreePort returns a TCP port on 127.0.0.1 that no other socket takes before the test's
// etcd binds it (internal/testport).
func scaleFreePort(t *testing.T) int {
	t.Helper()
	return testport.TCP(t, "127.0.0.1")
}

// scaleProcStatus reads a "kB" field of /proc/self/status, in bytes (0 where there is none).
func scaleProcStatus(t *testing.T, field string) uint64 {
	t.Helper()
	fh, err := os.Open("/proc/self/status")
	if err != nil {
		t.Logf("no /proc/self/status: %v", err)
		return 0
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			t.Fatalf("parse %s %q: %v", field, rest, err)
		}
		return kb * 1024
	}
	return 0
}

// scaleDiskUsage returns the size of etcd's bbolt file (what etcd reports as its db size) and
// of the whole data directory.
func scaleDiskUsage(t *testing.T, dir string) (db, total uint64) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += uint64(info.Size())
		if d.Name() == "db" && filepath.Base(filepath.Dir(path)) == "snap" {
			db = uint64(info.Size())
		}
		return nil
	})
	if err != nil {
		t.Fatalf("data dir size: %v", err)
	}
	return db, total
}

func scaleDur(d time.Duration) string { return d.Round(time.Millisecond).String() }

func scaleMiB(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// profileChangePasses writes a CPU profile of 60 change passes, each after one endpoint of one
// service in one cluster flips its readiness, to dir/change-<clusters>.pprof: one pass is too
// short for the profiler to sample, and where its time goes at 10 and at 100 clusters is what
// the curve's growth is made of (MESHFED_SCALE_PROFILE=dir).
func profileChangePasses(t *testing.T, dir string, nClusters int, exports []model.ClusterExport, pass func() scalePass) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("change-%d.pprof", nClusters)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	ep := &scaleEndpointsToChange(exports, 7%nClusters, 321)[3]
	var total time.Duration
	const n = 60
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatal(err)
	}
	for range n {
		ep.Ready, ep.Serving = !ep.Ready, !ep.Serving
		total += pass().total
	}
	pprof.StopCPUProfile()
	t.Logf("profiled %d change passes at %d clusters, %s each on average: %s", n, nClusters, total/n, f.Name())
}
