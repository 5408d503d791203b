package waypoint

import (
	"slices"
	"testing"
	"time"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/waypoint/balance"
	"github.com/meshfed/meshfed/waypoint/table"
)

// debugEndpoint returns the debug row of target on the route listening on port.
func debugEndpoint(t *testing.T, e *env, port int32, target string) table.DebugEndpoint {
	t.Helper()
	for _, r := range e.wp.Table().Debug().Routes {
		if r.ListenPort != port {
			continue
		}
		for _, ep := range r.Endpoints {
			if ep.Target == target {
				return ep
			}
		}
	}
	t.Fatalf("endpoint %s not in the table of port %d", target, port)
	return table.DebugEndpoint{}
}

func TestConnectFailureIsRetriedOnAnotherEndpoint(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Outlier.Disabled = true })
	a, b := startBackend(t, "a", "127.0.0.11"), startBackend(t, "b", "127.0.0.12")
	deadPort := deadAddress(t, "127.0.0.31")
	port := int32(freePort(t))
	e.put(service(port, model.ModeAny), endpoints("east", a.endpoint(sameZone), b.endpoint(sameZone), endpoint("127.0.0.31", deadPort, sameZone)))
	e.waitRoute("route", port, func(r *table.Route) bool { return r != nil && len(r.Endpoints) == 3 })
	e.eventually("listener", func() bool { return slices.Contains(e.wp.Outbound().Ports(), port) })

	const n = 200
	counts := spread(t, port, n)
	t.Logf("%d connections: %v", n, counts)
	if counts[""] != 0 {
		t.Fatalf("%d client connections failed, want 0 (every connect failure retried)", counts[""])
	}
	dead := debugEndpoint(t, e, port, "127.0.0.31:"+itoa(deadPort))
	// Uniform picks over 3 endpoints: the dead one is tried first by about a third.
	if dead.Failures < n/6 {
		t.Fatalf("dead endpoint saw %d connect failures, want about %d: retries not exercised", dead.Failures, n/3)
	}
	if dead.Ejected {
		t.Fatal("dead endpoint ejected with outlier detection disabled")
	}
	if got := counts["a"] + counts["b"]; got != n {
		t.Fatalf("live backends answered %d of %d", got, n)
	}
}

func TestConsecutiveConnectFailuresEjectAndFailOver(t *testing.T) {
	e := newEnv(t, nil)
	c, d := startBackend(t, "c", "127.0.0.13"), startBackend(t, "d", "127.0.0.14")
	deadPort := deadAddress(t, "127.0.0.31")
	dead := "127.0.0.31:" + itoa(deadPort)
	port := int32(freePort(t))
	// PreferClose: the dead endpoint is tier 0 alone, c is tier 1, d tier 2.
	e.put(
		service(port, model.ModePreferClose),
		endpoints("east", endpoint("127.0.0.31", deadPort, sameZone)),
		endpoints("west", c.endpoint(otherZone), d.endpoint(otherRegion)),
	)
	e.waitRoute("route", port, func(r *table.Route) bool { return r != nil && len(r.Endpoints) == 3 })
	e.eventually("listener", func() bool { return slices.Contains(e.wp.Outbound().Ports(), port) })
	if got := e.wp.Table().View().Route(port).Plan.Load.Percent; !slices.Equal(got, []uint32{100, 0, 0}) {
		t.Fatalf("initial tier load = %v, want [100 0 0]", got)
	}

	// Each of the first five connections tries tier 0, fails, and is retried on tier 1.
	for i := range balance.DefaultConsecutiveFailures {
		if name, err := roundTrip(port); err != nil || name != "c" {
			t.Fatalf("connection %d: answered by %q, %v; want c", i, name, err)
		}
	}
	row := debugEndpoint(t, e, port, dead)
	start := e.clock.Now()
	if !row.Ejected || row.Failures != 5 || !row.EjectedUntil.Equal(start.Add(balance.DefaultBaseEjectionTime)) || row.TimesEjected != 1 {
		t.Fatalf("after 5 failures: %+v, want ejected until +30s, once, 5 failures", row)
	}
	if got := e.wp.Table().View().Route(port).Plan.Load.Percent; !slices.Equal(got, []uint32{0, 100, 0}) {
		t.Fatalf("tier load while ejected = %v, want [0 100 0]", got)
	}
	// While ejected, load goes to tier 1 without trying the dead endpoint.
	counts := spread(t, port, 50)
	if counts["c"] != 50 {
		t.Fatalf("while ejected: %v, want all 50 on c", counts)
	}
	if row := debugEndpoint(t, e, port, dead); row.Failures != 5 {
		t.Fatalf("ejected endpoint was tried: %d failures, want 5", row.Failures)
	}

	// Once the ejection ends, the endpoint is tried again; five more failures eject it for
	// twice the base time.
	e.clock.Advance(balance.DefaultBaseEjectionTime)
	for i := range balance.DefaultConsecutiveFailures {
		if name, err := roundTrip(port); err != nil || name != "c" {
			t.Fatalf("connection %d after unejection: answered by %q, %v; want c", i, name, err)
		}
	}
	row = debugEndpoint(t, e, port, dead)
	want := e.clock.Now().Add(2 * balance.DefaultBaseEjectionTime)
	if !row.Ejected || row.Failures != 10 || row.TimesEjected != 2 || !row.EjectedUntil.Equal(want) {
		t.Fatalf("second ejection: %+v, want 10 failures, twice, until %s", row, want)
	}
	e.clock.Advance(time.Minute + time.Second)
	if r := e.wp.Table().View().Route(port); r.Ejected(0) {
		t.Fatal("endpoint still ejected after its ejection time")
	}
}
