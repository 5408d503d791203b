package waypoint

import (
	"math"
	"slices"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/waypoint/table"
)

// rackKey is a failover-priority label the waypoint and some endpoints carry.
const rackKey = "example.com/rack"

// httpFleet is two HTTP backends per locality: on the waypoint's node (a), elsewhere in its
// zone (b), in another zone (c, rack r7 like the waypoint), in another region (d), and one on
// another network (x, never routed).
type httpFleet struct {
	byName map[string]*httpBackend
}

func startHTTPFleet(t *testing.T) *httpFleet {
	f := &httpFleet{byName: make(map[string]*httpBackend)}
	for i, name := range []string{"a1", "a2", "b1", "b2", "c1", "c2", "d1", "d2", "x1"} {
		f.byName[name] = startHTTPBackend(t, name, "127.0.0."+itoa(int32(51+i)))
	}
	return f
}

func (f *httpFleet) records(e *env) {
	sameNode := sameZone
	sameNode.Node = self.Node
	ep := func(name string, loc model.Locality) model.Endpoint {
		ep := f.byName[name].endpoint(loc)
		if name[0] == 'c' {
			ep.Labels = map[string]string{rackKey: "r7"}
		}
		return ep
	}
	e.put(
		endpoints("east", ep("a1", sameNode), ep("a2", sameNode), ep("b1", sameZone), ep("b2", sameZone)),
		endpoints("west", ep("c1", otherZone), ep("c2", otherZone), ep("d1", otherRegion), ep("d2", otherRegion), ep("x1", otherNetwork)),
	)
}

func TestHTTPRequestsStayInExpectedTierPerMode(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Labels = map[string]string{rackKey: "r7"} })
	f := startHTTPFleet(t)
	port := int32(freePort(t))
	f.records(e)
	all := []string{"a1", "a2", "b1", "b2", "c1", "c2", "d1", "d2"}
	tests := []struct {
		dist model.Distribution
		want []string
	}{
		{model.Distribution{Mode: model.ModeAny}, all},
		{model.Distribution{Mode: model.ModePreferNetwork}, all},
		{model.Distribution{Mode: model.ModePreferRegion}, []string{"a1", "a2", "b1", "b2", "c1", "c2"}},
		{model.Distribution{Mode: model.ModePreferClose}, []string{"a1", "a2", "b1", "b2"}},
		{model.Distribution{Mode: model.ModePreferSameNode}, []string{"a1", "a2"}},
		{model.Distribution{Mode: model.ModeFailoverPriority, FailoverPriority: []string{rackKey}}, []string{"c1", "c2"}},
	}
	client := newClient(t)
	const n = 3000
	for _, tt := range tests {
		t.Run(string(tt.dist.Mode), func(t *testing.T) {
			svc := edit(httpService(port, tt.dist.Mode, "http", ""), func(s *model.PublishedService) { s.Distribution = tt.dist })
			e.put(svc)
			e.waitRoute("route with "+string(tt.dist.Mode), port, func(r *table.Route) bool {
				return r != nil && r.Distribution.Equal(tt.dist) && len(r.Endpoints) == 8 && r.Protocol == table.ProtocolHTTP
			})
			e.eventually("listener", func() bool { return slices.Contains(e.wp.Outbound().Ports(), port) })
			counts := requests(t, client, port, n, 8).snapshot()
			t.Logf("%s: %v", tt.dist.Mode, counts)
			if counts[""] != 0 {
				t.Fatalf("%d of %d requests failed", counts[""], n)
			}
			for name, got := range counts {
				if !slices.Contains(tt.want, name) {
					t.Errorf("backend %s answered %d requests, want only %v", name, got, tt.want)
				}
			}
			for _, name := range tt.want {
				// Least request over equal endpoints: each gets about n/len(want); half of
				// that would mean a member of the tier left out.
				if counts[name] < n/len(tt.want)/2 {
					t.Errorf("backend %s answered %d of %d requests, want about %d", name, counts[name], n, n/len(tt.want))
				}
			}
		})
	}
}

func TestHTTPHalfHealthyTierSplitsSeventyThirty(t *testing.T) {
	e := newEnv(t, nil)
	f := startHTTPFleet(t)
	port := int32(freePort(t))
	unready := func(name string) model.Endpoint {
		ep := f.byName[name].endpoint(sameZone)
		ep.Ready, ep.Serving = false, false
		return ep
	}
	e.put(
		httpService(port, model.ModePreferClose, "http", "http"),
		endpoints("east", f.byName["a1"].endpoint(sameZone), f.byName["a2"].endpoint(sameZone), unready("b1"), unready("b2")),
		endpoints("west", f.byName["c1"].endpoint(otherZone), f.byName["d1"].endpoint(otherRegion)),
	)
	e.waitRoute("route with 6 endpoints", port, func(r *table.Route) bool { return r != nil && len(r.Endpoints) == 6 })
	if got := e.wp.Table().View().Route(port).Plan.Load.Percent; !slices.Equal(got, []uint32{70, 30, 0}) {
		t.Fatalf("tier load = %v, want [70 30 0]", got)
	}
	e.eventually("listener", func() bool { return slices.Contains(e.wp.Outbound().Ports(), port) })

	const n = 3000
	counts := requests(t, newClient(t), port, n, 8).snapshot()
	t.Logf("split over %d requests: %v", n, counts)
	for _, name := range []string{"", "b1", "b2", "d1"} {
		if counts[name] != 0 {
			t.Errorf("%q answered %d requests, want 0", name, counts[name])
		}
	}
	// Each request draws its tier independently: tier-0 count ~ Binomial(3000, 0.7), σ = 0.84
	// points; ±3.5 points is 4.2σ, a false alarm about once in 40,000 runs.
	tier0 := float64(counts["a1"]+counts["a2"]) / n
	if math.Abs(tier0-0.70) > 0.035 {
		t.Errorf("tier 0 share = %.3f, want 0.70 ± 0.035", tier0)
	}
	if tier1 := float64(counts["c1"]) / n; math.Abs(tier1-0.30) > 0.035 {
		t.Errorf("tier 1 share = %.3f, want 0.30 ± 0.035", tier1)
	}
}
