package waypoint

import (
	"math"
	"slices"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/waypoint/table"
)

// fleet is the standard set of backends: two in the waypoint's zone (east), one in another zone
// and one in another region (west), and one on another network (west, must never be reached).
type fleet struct {
	a, b, c, d, x *backend
}

func startFleet(t *testing.T) *fleet {
	return &fleet{
		a: startBackend(t, "a", "127.0.0.11"),
		b: startBackend(t, "b", "127.0.0.12"),
		c: startBackend(t, "c", "127.0.0.13"),
		d: startBackend(t, "d", "127.0.0.14"),
		x: startBackend(t, "x", "127.0.0.15"),
	}
}

func (f *fleet) records(e *env) {
	e.put(
		endpoints("east", f.a.endpoint(sameZone), f.b.endpoint(sameZone)),
		endpoints("west", f.c.endpoint(otherZone), f.d.endpoint(otherRegion), f.x.endpoint(otherNetwork)),
	)
}

func TestTrafficStaysInExpectedTierPerMode(t *testing.T) {
	e := newEnv(t, nil)
	f := startFleet(t)
	port := int32(freePort(t))
	f.records(e)
	tests := []struct {
		mode model.Mode
		want []string
	}{
		{model.ModePreferClose, []string{"a", "b"}},
		{model.ModePreferCluster, []string{"a", "b"}},
		{model.ModePreferRegion, []string{"a", "b", "c"}},
		{model.ModePreferNetwork, []string{"a", "b", "c", "d"}},
		{model.ModeAny, []string{"a", "b", "c", "d"}},
	}
	const n = 300
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			e.put(service(port, tt.mode))
			e.waitRoute("route with mode "+string(tt.mode), port, func(r *table.Route) bool {
				return r != nil && r.Distribution.Mode == tt.mode && len(r.Endpoints) == 4
			})
			e.eventually("listener", func() bool { return slices.Contains(e.wp.Outbound().Ports(), port) })
			counts := spread(t, port, n)
			t.Logf("%s: %v", tt.mode, counts)
			if counts[""] != 0 {
				t.Fatalf("%d of %d connections failed", counts[""], n)
			}
			for name, got := range counts {
				if !slices.Contains(tt.want, name) {
					t.Errorf("backend %s got %d connections, want only %v", name, got, tt.want)
				}
			}
			for _, name := range tt.want {
				// Uniform over len(want) backends: far below the mean would mean a dead tier member.
				if counts[name] < n/len(tt.want)/2 {
					t.Errorf("backend %s got %d of %d connections, want about %d", name, counts[name], n, n/len(tt.want))
				}
			}
		})
	}
}

func TestHalfUnreadyTierSplitsSeventyThirty(t *testing.T) {
	e := newEnv(t, nil)
	f := startFleet(t)
	a2, b2 := startBackend(t, "a2", "127.0.0.21"), startBackend(t, "b2", "127.0.0.22")
	port := int32(freePort(t))
	unready := func(b *backend) model.Endpoint {
		ep := b.endpoint(sameZone)
		ep.Ready, ep.Serving = false, false
		return ep
	}
	e.put(
		service(port, model.ModePreferClose),
		endpoints("east", f.a.endpoint(sameZone), f.b.endpoint(sameZone), unready(a2), unready(b2)),
		endpoints("west", f.c.endpoint(otherZone), f.d.endpoint(otherRegion)),
	)
	e.waitRoute("route with 6 endpoints", port, func(r *table.Route) bool { return r != nil && len(r.Endpoints) == 6 })
	r := e.wp.Table().View().Route(port)
	if got := r.Plan.Load.Percent; !slices.Equal(got, []uint32{70, 30, 0}) {
		t.Fatalf("tier load = %v, want [70 30 0] (health 140×2/4 = 70, then 30 to tier 1)", got)
	}
	e.eventually("listener", func() bool { return slices.Contains(e.wp.Outbound().Ports(), port) })

	const n = 600
	counts := spread(t, port, n)
	t.Logf("split over %d connections: %v", n, counts)
	for _, name := range []string{"", "a2", "b2", "d", "x"} {
		if counts[name] != 0 {
			t.Errorf("%q got %d connections, want 0", name, counts[name])
		}
	}
	// Binomial(600, 0.7): σ ≈ 1.9%; ±7 points is beyond 3.5σ.
	tier0 := float64(counts["a"]+counts["b"]) / n
	if math.Abs(tier0-0.70) > 0.07 {
		t.Errorf("tier 0 share = %.3f, want 0.70 ± 0.07", tier0)
	}
	if tier1 := float64(counts["c"]) / n; math.Abs(tier1-0.30) > 0.07 {
		t.Errorf("tier 1 share = %.3f, want 0.30 ± 0.07", tier1)
	}
}
