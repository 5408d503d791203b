package waypoint

import (
	"net/http"
	"slices"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/waypoint/balance"
	"github.com/meshfed/meshfed/waypoint/table"
)

// httpRoute puts shop/echo as an HTTP service of mode Any with the backends in east and waits
// for its listener.
func httpRoute(t *testing.T, e *env, backends ...*httpBackend) int32 {
	t.Helper()
	port := int32(freePort(t))
	eps := make([]model.Endpoint, 0, len(backends))
	for _, b := range backends {
		eps = append(eps, b.endpoint(sameZone))
	}
	e.put(httpService(port, model.ModeAny, "http", ""), endpoints("east", eps...))
	e.waitRoute("HTTP route", port, func(r *table.Route) bool { return r != nil && len(r.Endpoints) == len(backends) })
	e.eventually("listener", func() bool { return slices.Contains(e.wp.Outbound().Ports(), port) })
	return port
}

func (b *httpBackend) target() string { return b.ip + ":" + itoa(b.port) }

func TestHTTP503EjectsAndRejoins(t *testing.T) {
	e := newEnv(t, nil)
	bad := startHTTPBackend(t, "bad", "127.0.0.71")
	bad.status.Store(http.StatusServiceUnavailable)
	good := []*httpBackend{startHTTPBackend(t, "g1", "127.0.0.72"), startHTTPBackend(t, "g2", "127.0.0.73"), startHTTPBackend(t, "g3", "127.0.0.74")}
	port := httpRoute(t, e, append([]*httpBackend{bad}, good...)...)
	c := newClient(t)

	// One at a time until the bad endpoint has answered five times: each of its 503s is
	// retried on a good endpoint, so the client never sees one.
	var tl tally
	for i := 0; bad.hits.Load() < balance.DefaultConsecutive5xx && i < 400; i++ {
		tl.add(get(t.Context(), c, port))
	}
	row := debugEndpoint(t, e, port, bad.target())
	if !row.Ejected || row.TimesEjected != 1 || !row.EjectedUntil.Equal(e.clock.Now().Add(balance.DefaultBaseEjectionTime)) {
		t.Fatalf("after %d 503s: %+v, want ejected for %s", bad.hits.Load(), row, balance.DefaultBaseEjectionTime)
	}
	counts := requests(t, c, port, 200, 4).snapshot()
	if counts[""] != 0 || tl.snapshot()[""] != 0 {
		t.Fatalf("failed requests: %d before ejection, %d after, want none", tl.snapshot()[""], counts[""])
	}
	if got := bad.hits.Load(); got != balance.DefaultConsecutive5xx {
		t.Fatalf("the ejected endpoint got %d requests, want it left alone after %d", got, balance.DefaultConsecutive5xx)
	}

	// The ejection ends by the waypoint's clock: the endpoint takes requests again; healthy
	// now, it stays in.
	bad.status.Store(0)
	e.clock.Advance(balance.DefaultBaseEjectionTime)
	counts = requests(t, c, port, 200, 4).snapshot()
	t.Logf("after the ejection ended: %v", counts)
	if counts["bad"] < 20 || counts[""] != 0 {
		t.Fatalf("after the ejection ended: %v, want the endpoint back with about a quarter", counts)
	}
	if row := debugEndpoint(t, e, port, bad.target()); row.Ejected || row.Consecutive5xx != 0 {
		t.Fatalf("rejoined endpoint: %+v", row)
	}
}

func TestHTTPMaxEjectionPercentHolds(t *testing.T) {
	tests := []struct {
		percent     int
		wantEjected int
	}{
		{percent: 0, wantEjected: 1},  // default 10% of 4 rounds to 0: still one
		{percent: 50, wantEjected: 2}, // both of the failing two
	}
	for _, tt := range tests {
		t.Run("percent "+itoa(int32(tt.percent)), func(t *testing.T) {
			e := newEnv(t, func(o *Options) { o.Outlier.MaxEjectionPercent = tt.percent })
			b1, b2 := startHTTPBackend(t, "bad1", "127.0.0.75"), startHTTPBackend(t, "bad2", "127.0.0.76")
			b1.status.Store(http.StatusBadGateway)
			b2.status.Store(http.StatusInternalServerError)
			port := httpRoute(t, e, b1, b2, startHTTPBackend(t, "g1", "127.0.0.77"), startHTTPBackend(t, "g2", "127.0.0.78"))
			c := newClient(t)
			// Until both failing endpoints have answered ten times (or been left alone).
			for i := 0; i < 600 && (b1.hits.Load() < 10 || b2.hits.Load() < 10); i++ {
				if r := get(t.Context(), c, port); r.err != nil {
					t.Fatalf("request %d: %v", i, r.err)
				}
			}
			ejected := 0
			for _, b := range []*httpBackend{b1, b2} {
				if debugEndpoint(t, e, port, b.target()).Ejected {
					ejected++
				}
			}
			t.Logf("hits bad1 %d bad2 %d, ejected %d", b1.hits.Load(), b2.hits.Load(), ejected)
			if ejected != tt.wantEjected {
				t.Fatalf("%d ejected, want %d", ejected, tt.wantEjected)
			}
		})
	}
}
