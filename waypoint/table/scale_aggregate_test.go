package table

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/waypoint/internal/wptest"
)

// TestScaleAggregatedTable measures what aggregating remote endpoints saves a waypoint at
// MESHFED_SCALE_CLUSTERS (100) clusters × MESHFED_SCALE_SERVICES (1,000) services ×
// MESHFED_SCALE_ENDPOINTS (10) endpoints, every cluster on a network of its own and every
// cluster importing every service from every cluster: the store bytes under the namespace
// prefix the waypoint watches, the waypoint's live heap once its table is built, the time of
// the first build, the time of a rebuild after one endpoint's change and after one endpoint's
// ejection (and of a rebuild of every route, what an ejection cost before), with the services'
// remote endpoints each routed one by one, then aggregated. The heap is what stays live once
// the records handed to the table are dropped: its decoded state and its view. The two rounds
// run in one process, one after the other. At that size it is a `make bench` benchmark
// (MESHFED_BENCH_AGGREGATE=1); without it, the same rounds run at 10 clusters × 100 services
// and check only what each build holds (measureTable), not how fast or how large it is.
func TestScaleAggregatedTable(t *testing.T) {
	defClusters, defServices := 10, 100
	if os.Getenv("MESHFED_BENCH_AGGREGATE") != "" {
		defClusters, defServices = 100, 1000
	}
	clusters, services, per := envInt(t, "MESHFED_SCALE_CLUSTERS", defClusters), envInt(t, "MESHFED_SCALE_SERVICES", defServices), envInt(t, "MESHFED_SCALE_ENDPOINTS", 10)
	t.Logf("%d clusters × %d services × %d endpoints, one network per cluster, waypoint in c000", clusters, services, per)
	t.Logf("%-11s %12s %12s %10s %10s %10s %12s %14s %12s", "remote", "store MB", "heap MiB", "build", "rebuild", "ejection", "full rebuild", "route entries", "hosts/route")
	for _, mode := range []model.RemoteEndpoints{model.RemoteEndpointsEach, model.RemoteEndpointsAggregated} {
		m := measureTable(t, clusters, services, per, mode)
		t.Logf("%-11s %12.1f %12.1f %10s %10s %10s %12s %14d %12d", mode, float64(m.storeBytes)/1e6, float64(m.heap)/(1<<20),
			m.build.Round(time.Millisecond), m.rebuild.Round(100*time.Microsecond), m.eject.Round(100*time.Microsecond),
			m.ejectFull.Round(time.Millisecond), m.entries, m.entries/services)
	}
}

type tableMeasure struct {
	storeBytes     int64
	heap           uint64
	build, rebuild time.Duration
	eject          time.Duration
	ejectFull      time.Duration
	entries        int
}

func measureTable(t *testing.T, clusters, services, per int, mode model.RemoteEndpoints) tableMeasure {
	cluster := func(c int) string { return fmt.Sprintf("c%03d", c) }
	all := make([]string, clusters)
	for c := range all {
		all[c] = cluster(c)
	}
	imports := make([]model.Import, clusters)
	for c := range imports {
		imports[c] = model.Import{Cluster: cluster(c), From: all}
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var m tableMeasure
	records := make([]store.Record, 0, services*(clusters+1)+clusters)
	for c := range clusters {
		records = append(records, wptest.WaypointsRecord(cluster(c), "n"+strconv.Itoa(c), fmt.Sprintf("192.0.%d.%d:15008", c/256, c%256)))
	}
	endpointsOf := func(s, c int, ready bool) *store.EndpointsRecord {
		eps := make([]model.Endpoint, per)
		for e := range eps {
			eps[e] = model.Endpoint{
				Address: fmt.Sprintf("10.%d.%d.%d", c, s/256*per/256+e/256, (s*per+e)%256), Ports: []model.EndpointPort{{Name: "http", Port: 8080}},
				Locality: model.Locality{Network: "n" + strconv.Itoa(c), Region: "r1", Zone: "z" + strconv.Itoa(e%3), Node: fmt.Sprintf("node-%d", e)},
				Ready:    ready || e > 0, Serving: true, Weight: 1,
			}
		}
		return store.NewEndpointsRecord(&model.PublishedEndpoints{
			Namespace: "shop", Domain: wellknown.DefaultSegmentDomain, Name: fmt.Sprintf("svc-%04d", s), Cluster: cluster(c), Scope: model.ScopeGlobal, Endpoints: eps,
		})
	}
	for s := range services {
		name := fmt.Sprintf("svc-%04d", s)
		svc := &model.PublishedService{
			GlobalService: model.GlobalService{
				Namespace: "shop", Name: name, Domain: wellknown.DefaultSegmentDomain, Hostname: name + ".shop." + wellknown.DefaultSegmentDomain,
				Scope: model.ScopeGlobal, Type: model.ServiceTypeClusterSetIP, Ports: []model.Port{{Name: "http", Port: 80, Protocol: "TCP"}},
				Distribution: model.Distribution{Mode: model.ModePreferClose}, Imports: imports,
			},
			WaypointPorts: []int32{int32(20000 + s)},
		}
		if mode == model.RemoteEndpointsAggregated {
			svc.Load = &model.LoadPolicy{RemoteEndpoints: mode}
		}
		records = append(records, store.NewServiceRecord(svc))
		for c := range clusters {
			records = append(records, endpointsOf(s, c, true))
		}
	}
	for _, r := range records {
		_, v, err := store.Encode(r)
		if err != nil {
			t.Fatal(err)
		}
		m.storeBytes += int64(len(v))
	}
	events := wptest.Put(1, records...)
	records = nil

	tab := NewTable(Options{
		Namespace: "shop", Cluster: cluster(0), Locality: model.Locality{Network: "n0", Region: "r1", Zone: "z0", Cluster: cluster(0)},
		Tunnels: true, WaypointID: shopWaypointID, Clock: wptest.NewManualClock(), Logger: wptest.Logger,
	})
	start := time.Now()
	tab.Apply(store.Batch{Snapshot: true, Revision: 1, Events: events})
	m.build = time.Since(start)
	events = nil
	for _, r := range tab.View().Routes {
		m.entries += len(r.Endpoints)
	}
	want := services * clusters * per // every endpoint one by one
	if mode == model.RemoteEndpointsAggregated {
		want = services * (per + clusters - 1) // the own cluster's endpoints, one per other cluster
	}
	if m.entries != want {
		t.Errorf("%s: %d route entries, want %d", mode, m.entries, want)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	m.heap = after.HeapAlloc - min(after.HeapAlloc, before.HeapAlloc)

	// One endpoint of a remote cluster turns not ready: the table rebuilds its view.
	change := wptest.Put(2, endpointsOf(services/2, clusters/2, false))
	start = time.Now()
	tab.Apply(store.Batch{Revision: 2, Events: change})
	m.rebuild = time.Since(start)
	if got, want := healthyWeight(tab.View().Route(int32(20000+services/2))), healthyWeight(tab.View().Route(20000))-1; got != want {
		t.Errorf("%s: after one endpoint turned not ready its route's healthy weight is %d, want %d", mode, got, want)
	}

	// An endpoint of one route ejected: the table rebuilds that service's routes.
	r := tab.View().Routes[0]
	for !r.Pool().Failure(r.Host(0), time.Now()) {
	}
	start = time.Now()
	tab.RefreshRoute(r)
	m.eject = time.Since(start)
	if !tab.View().Route(r.ListenPort).Ejected(0) {
		t.Errorf("%s: the ejected endpoint is not ejected after RefreshRoute", mode)
	}
	// What an ejection cost before the table rebuilt one service: every route again.
	start = time.Now()
	tab.mu.Lock()
	tab.swap(tab.rev.Load(), false, true)
	tab.mu.Unlock()
	m.ejectFull = time.Since(start)
	runtime.KeepAlive(tab)
	return m
}

// healthyWeight is the summed weight of r's healthy endpoints.
func healthyWeight(r *Route) uint64 {
	var w uint64
	for i := range r.Endpoints {
		if r.Endpoints[i].Healthy() {
			w += uint64(r.Endpoints[i].EffectiveWeight())
		}
	}
	return w
}

// envInt reads a positive whole number from the environment, def when unset.
func envInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive whole number", name, s)
	}
	return n
}
