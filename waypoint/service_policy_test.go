package waypoint

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/waypoint/table"
)

// TestServicePolicyEjects: a service whose record says consecutive5xxErrors=1 and
// baseEjectionTime=5s ejects a 503 endpoint after one answer, for 5s; a policy turning the
// local-origin detector off (consecutiveLocalOriginFailures=0) keeps a refusing endpoint in.
func TestServicePolicyEjects(t *testing.T) {
	e := newEnv(t, nil)
	bad := startHTTPBackend(t, "bad", "127.0.0.81")
	bad.status.Store(http.StatusServiceUnavailable)
	good := startHTTPBackend(t, "good", "127.0.0.82")
	port := int32(freePort(t))
	one, zero, five := uint32(1), uint32(0), 5*time.Second
	svc := edit(httpService(port, model.ModeAny, "http", ""), func(s *model.PublishedService) {
		s.Outlier = &model.OutlierPolicy{Consecutive5xxErrors: &one, ConsecutiveLocalOriginFailures: &zero, BaseEjectionTime: &five}
	})
	e.put(svc, endpoints("east", bad.endpoint(sameZone), good.endpoint(sameZone)))
	e.waitRoute("HTTP route", port, func(r *table.Route) bool { return r != nil && len(r.Endpoints) == 2 })
	e.eventually("listener", func() bool { return slices.Contains(e.wp.Outbound().Ports(), port) })
	c := newClient(t)
	for i := 0; bad.hits.Load() < 1 && i < 100; i++ {
		get(t.Context(), c, port)
	}
	row := debugEndpoint(t, e, port, bad.target())
	if !row.Ejected || !row.EjectedUntil.Equal(e.clock.Now().Add(5*time.Second)) {
		t.Fatalf("after one 503: %+v, want ejected for 5s", row)
	}

	// Without the local-origin detector, connect failures never eject.
	bad.stop()
	e.clock.Advance(5 * time.Second)
	for range 40 {
		get(t.Context(), c, port)
	}
	if row := debugEndpoint(t, e, port, bad.target()); row.Ejected {
		t.Fatalf("refusing endpoint ejected although the policy turned connect-failure detection off: %+v", row)
	}
}
