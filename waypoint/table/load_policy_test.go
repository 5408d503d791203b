package table

import (
	"slices"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/waypoint/internal/wptest"
)

// TestRouteUsesServiceLoadPolicy: a service record's load policy changes how the waypoint
// splits load across tiers, setting by setting over the waypoint's own options, and
// /debug/endpoints shows the settings in force.
func TestRouteUsesServiceLoadPolicy(t *testing.T) {
	const wp = 20000
	u := func(v uint32) *uint32 { return &v }
	unready := func(ip string, loc model.Locality) model.Endpoint {
		e := wptest.Endpoint(ip, 8080, loc)
		e.Ready, e.Serving = false, false
		return e
	}
	terminating := func(ip string, loc model.Locality) model.Endpoint {
		e := wptest.Endpoint(ip, 8080, loc)
		e.Ready, e.Terminating = false, true
		return e
	}
	halfHealthy := []store.Record{
		wptest.Endpoints("east", wptest.Endpoint("10.0.0.1", 8080, wptest.SameZone), unready("10.0.0.2", wptest.SameZone)),
		wptest.Endpoints("west", wptest.Endpoint("10.0.0.3", 8080, wptest.OtherZone)),
	}
	quarterHealthy := []store.Record{
		wptest.Endpoints("east", wptest.Endpoint("10.0.0.1", 8080, wptest.SameZone), unready("10.0.0.2", wptest.SameZone), unready("10.0.0.4", wptest.SameZone), unready("10.0.0.5", wptest.SameZone)),
		wptest.Endpoints("west", unready("10.0.0.3", wptest.OtherZone)),
	}
	degraded := []store.Record{
		wptest.Endpoints("east", wptest.Endpoint("10.0.0.1", 8080, wptest.SameZone), terminating("10.0.0.2", wptest.SameZone)),
		wptest.Endpoints("west", unready("10.0.0.3", wptest.OtherZone)),
	}
	tests := []struct {
		name      string
		policy    *model.LoadPolicy
		opts      func(*Options)
		records   []store.Record
		percent   []uint32
		degraded  []uint32
		panic     []bool
		factor    uint32
		threshold uint32
	}{
		{name: "defaults: half of tier 0 healthy spills 30%", records: halfHealthy,
			percent: []uint32{70, 30}, degraded: []uint32{0, 0}, panic: []bool{false, false}, factor: 140, threshold: 50},
		{name: "factor 200 keeps it all in tier 0", policy: &model.LoadPolicy{OverprovisioningFactor: u(200)}, records: halfHealthy,
			percent: []uint32{100, 0}, degraded: []uint32{0, 0}, panic: []bool{false, false}, factor: 200, threshold: 50},
		{name: "defaults: a quarter healthy is total panic, split by counts", records: quarterHealthy,
			percent: []uint32{80, 20}, degraded: []uint32{0, 0}, panic: []bool{true, true}, factor: 140, threshold: 50},
		{name: "panic off sends everything to the healthy one", policy: &model.LoadPolicy{PanicThreshold: u(0)}, records: quarterHealthy,
			percent: []uint32{100, 0}, degraded: []uint32{0, 0}, panic: []bool{false, false}, factor: 140, threshold: 0},
		{name: "threshold 20 keeps tier 0 out of panic", policy: &model.LoadPolicy{PanicThreshold: u(20)}, records: quarterHealthy,
			percent: []uint32{100, 0}, degraded: []uint32{0, 0}, panic: []bool{false, true}, factor: 140, threshold: 20},
		{name: "defaults: degraded takes what the healthy one cannot", records: degraded,
			percent: []uint32{70, 0}, degraded: []uint32{30, 0}, panic: []bool{false, false}, factor: 140, threshold: 50},
		{name: "factor 100: degraded takes half", policy: &model.LoadPolicy{OverprovisioningFactor: u(100)}, records: degraded,
			percent: []uint32{50, 0}, degraded: []uint32{50, 0}, panic: []bool{false, false}, factor: 100, threshold: 50},
		{name: "the policy replaces only what it sets", policy: &model.LoadPolicy{PanicThreshold: u(20)}, records: halfHealthy,
			opts:    func(o *Options) { o.Load.OverprovisioningFactor = 200 },
			percent: []uint32{100, 0}, degraded: []uint32{0, 0}, panic: []bool{false, false}, factor: 200, threshold: 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Namespace: "shop", Cluster: "east", Locality: wptest.Self, Clock: wptest.NewManualClock(), Logger: wptest.Logger}
			if tt.opts != nil {
				tt.opts(&opts)
			}
			tab := NewTable(opts)
			svc := wptest.Edit(wptest.Service(wp, model.ModePreferClose), func(s *model.PublishedService) { s.Load = tt.policy })
			tab.Apply(store.Batch{Snapshot: true, Revision: 2, Events: wptest.Put(2, append([]store.Record{svc}, tt.records...)...)})
			r := tab.View().Route(wp)
			if r == nil {
				t.Fatal("no route")
			}
			l := r.Plan.Load
			if !slices.Equal(l.Percent, tt.percent) || !slices.Equal(l.DegradedPercent, tt.degraded) || !slices.Equal(l.Panic, tt.panic) {
				t.Errorf("load %v degraded %v panic %v, want %v %v %v", l.Percent, l.DegradedPercent, l.Panic, tt.percent, tt.degraded, tt.panic)
			}
			d := tab.Debug().Routes[0]
			if d.OverprovisioningFactor != tt.factor || d.PanicThreshold != tt.threshold {
				t.Errorf("debug shows factor %d threshold %d, want %d %d", d.OverprovisioningFactor, d.PanicThreshold, tt.factor, tt.threshold)
			}
		})
	}
}
