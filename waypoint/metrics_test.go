package waypoint

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/waypoint/table"
)

// scrape reads /metrics from the waypoint's admin handler and returns the samples by series
// ("name{k="v",…}", labels sorted as the text format writes them).
func scrape(t *testing.T, e *env) map[string]float64 {
	t.Helper()
	srv := httptest.NewServer(e.wp.Admin())
	defer srv.Close()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	out := make(map[string]float64)
	for line := range strings.Lines(string(body)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

// series names a series as scrape keys it.
func series(name string, labels map[string]string) string {
	if len(labels) == 0 {
		return name
	}
	parts := make([]string, 0, len(labels))
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		parts = append(parts, k+`="`+labels[k]+`"`)
	}
	return name + "{" + strings.Join(parts, ",") + "}"
}

// namedService is service with another name (and hostname).
func namedService(name string, wp int32) *store.ServiceRecord {
	s := service(wp, model.ModeAny)
	s.Name, s.Hostname = name, name+".shop."+wellknown.DefaultSegmentDomain
	return s
}

func namedEndpoints(name, cluster string, eps ...model.Endpoint) *store.EndpointsRecord {
	r := endpoints(cluster, eps...)
	r.Name = name
	return r
}

func TestMetricsAfterTraffic(t *testing.T) {
	e := newEnv(t, nil)
	he, hw := startHTTPBackend(t, "he", "127.0.0.121"), startHTTPBackend(t, "hw", "127.0.0.122")
	tcp := startBackend(t, "t", "127.0.0.123")
	web, db, empty := int32(freePort(t)), int32(freePort(t)), int32(freePort(t))
	webSvc := namedService("web", web)
	webSvc.Ports[0].Name = "http"
	emptySvc := namedService("empty", empty)
	emptySvc.Ports[0].Name = "http"
	wrote := time.Now() // the table's last batch is this write's, or a later one
	e.put(
		webSvc, namedEndpoints("web", "east", he.endpoint(sameZone)), namedEndpoints("web", "west", hw.endpoint(otherZone)),
		namedService("db", db), namedEndpoints("db", "east", tcp.endpoint(sameZone)),
		emptySvc,
	)
	e.eventually("listeners", func() bool {
		ports := e.wp.Outbound().Ports()
		return slices.Contains(ports, web) && slices.Contains(ports, db) && slices.Contains(ports, empty) &&
			len(e.wp.Table().View().Route(web).Endpoints) == 2
	})
	counts := requests(t, newClient(t), web, 40, 4).snapshot()
	for range 3 {
		if _, err := roundTrip(db); err != nil {
			t.Fatalf("TCP round trip: %v", err)
		}
	}
	if r := get(t.Context(), newClient(t), empty); r.code != http.StatusServiceUnavailable {
		t.Fatalf("request to a service without endpoints: %+v, want 503", r)
	}

	const webHost, dbHost, emptyHost = "web.shop.mesh.internal", "db.shop.mesh.internal", "empty.shop.mesh.internal"
	want := map[string]float64{
		series("meshfed_waypoint_requests_total", map[string]string{"service": webHost, "destination_cluster": "east", "code": "200"}):           float64(counts["he"]),
		series("meshfed_waypoint_requests_total", map[string]string{"service": webHost, "destination_cluster": "west", "code": "200"}):           float64(counts["hw"]),
		series("meshfed_waypoint_requests_total", map[string]string{"service": emptyHost, "destination_cluster": "none", "code": "503"}):         1,
		series("meshfed_waypoint_request_duration_seconds_count", map[string]string{"service": webHost}):                                         40,
		series("meshfed_waypoint_connections_total", map[string]string{"service": dbHost, "destination_cluster": "east", "result": "connected"}): 3,
		series("meshfed_waypoint_ejections_total", map[string]string{"service": webHost, "port": "80"}):                                          0,
		series("meshfed_waypoint_store_revision", nil): float64(e.wp.Table().Revision()),
	}
	// A request is counted once its handler returns, which can be just after the client has
	// read the whole response: scrape until the counts arrive (or waitTimeout passes).
	mismatches := func(m map[string]float64) []string {
		var out []string
		for s, v := range want {
			if got, ok := m[s]; !ok || got != v {
				out = append(out, fmt.Sprintf("%s = %v (present %v), want %v", s, got, ok, v))
			}
		}
		return out
	}
	m := scrape(t, e)
	for deadline := time.Now().Add(waitTimeout); len(mismatches(m)) > 0 && time.Now().Before(deadline); m = scrape(t, e) {
		time.Sleep(10 * time.Millisecond)
	}
	for _, msg := range mismatches(m) {
		t.Error(msg)
	}
	if counts["he"] == 0 || counts["hw"] == 0 {
		t.Errorf("requests %v, want both clusters", counts)
	}
	if got := m[series("meshfed_waypoint_upstream_connections_active", map[string]string{"service": webHost})]; got < 1 {
		t.Errorf("active upstream connections of %s = %v, want the pooled ones (≥ 1)", webHost, got)
	}
	// Bounded by the time since the test's last write, not by a fixed time: the requests and
	// the scrapes since then can take seconds on a loaded machine.
	if lag, ok := m["meshfed_waypoint_store_lag_seconds"]; !ok || lag < 0 || lag > time.Since(wrote).Seconds() {
		t.Errorf("store lag = %v (present %v), want seconds since the last batch, at most the %v since the last write", lag, ok, time.Since(wrote))
	}
	for s := range m {
		if strings.Contains(s, "127.0.0.") {
			t.Errorf("series %s carries an endpoint address", s)
		}
	}
	// The admin endpoints still answer beside /metrics, with the load share per endpoint.
	srv := httptest.NewServer(e.wp.Admin())
	defer srv.Close()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/debug/endpoints", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /debug/endpoints: %v", err)
	}
	defer resp.Body.Close()
	var d table.DebugTable
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatalf("decode /debug/endpoints: %v", err)
	}
	for _, r := range d.Routes {
		if r.ListenPort != web {
			continue
		}
		if r.Protocol != table.ProtocolHTTP || len(r.Endpoints) != 2 || r.Endpoints[0].Share+r.Endpoints[1].Share != 100 {
			t.Fatalf("debug route of web: %+v, want HTTP with two endpoints sharing 100%%", r)
		}
		return
	}
	t.Fatal("web's route missing from /debug/endpoints")
}

// TestRuntimeMetrics: the waypoint serves the Go runtime's and the process's metrics beside its
// own, as every meshfed binary does. It served neither before.
func TestRuntimeMetrics(t *testing.T) {
	e := newEnv(t, nil)
	got := scrape(t, e)
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		if _, ok := got[name]; !ok {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}
