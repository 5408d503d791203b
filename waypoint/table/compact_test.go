package table

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/waypoint/internal/wptest"
)

// FuzzCompactKeepsAggregates checks what keeping records compacted relies on: for any
// endpoints of clusters on other networks (ports, zones, conditions, weights and labels from
// the input), the routes of an aggregated service built from the compacted records are the
// routes built from the records whole (endpoints, targets, tiers, skipped), and compacting
// twice changes nothing.
func FuzzCompactKeepsAggregates(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{0xff, 0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87, 0x98, 0xa9})
	// Three endpoints of one group on three nodes, weight 1 each: one stand-in of weight 3.
	f.Add([]byte{0, 0, 1, 0, 8, 1, 0, 16, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 300 {
			return
		}
		full := map[string]*model.PublishedEndpoints{}
		for i := 0; i+2 < len(data); i += 3 {
			a, b, c := data[i], data[i+1], data[i+2]
			cluster := []string{"west", "north"}[a&1]
			loc := model.Locality{Network: "n2", Region: fmt.Sprintf("r%d", a>>1&1), Zone: fmt.Sprintf("z%d", a>>2&3), Node: fmt.Sprintf("node%d", b), Cluster: cluster}
			ep := wptest.Endpoint(fmt.Sprintf("10.%d.%d.%d", a&1, i/256, i%256), 8080+int32(a>>4&1), loc)
			ep.Ready, ep.Serving, ep.Terminating = b&1 == 0, b&2 == 0, b&4 != 0
			ep.Weight = uint32(c & 7)
			if c&8 != 0 {
				ep.Ports[0].Name = "other"
			}
			if c&16 != 0 {
				ep.Labels = map[string]string{"tier": fmt.Sprint(c >> 5)}
			}
			if full[cluster] == nil {
				full[cluster] = &model.PublishedEndpoints{Namespace: "shop", Domain: wellknown.DefaultSegmentDomain, Name: "echo", Cluster: cluster, Scope: model.ScopeGlobal}
			}
			full[cluster].Endpoints = append(full[cluster].Endpoints, ep)
		}
		svc := aggregatedService(20000, model.ModePreferClose).Model()
		west := wptest.WaypointsRecord("west", "n2", "192.0.2.1:15008").Model()
		waypoints := map[string]*model.PublishedWaypoints{"west": &west}
		st := newState("n1")
		small := map[string]*model.PublishedEndpoints{}
		for c, rec := range full {
			cp := *rec
			st.compact(&cp)
			again := cp
			st.compact(&again)
			if !reflect.DeepEqual(again.Endpoints, cp.Endpoints) {
				t.Fatalf("compacting %s twice changed it: %+v, then %+v", c, cp.Endpoints, again.Endpoints)
			}
			small[c] = &cp
		}
		opts := Options{Namespace: "shop", Cluster: "east", Locality: wptest.Self, Tunnels: true, WaypointID: shopWaypointID, Clock: wptest.NewManualClock(), Logger: wptest.Logger}
		want := ServiceRoutes(opts, &svc, full, waypoints)
		got := ServiceRoutes(opts, &svc, small, waypoints)
		if len(got) != len(want) {
			t.Fatalf("%d routes from the compacted records, %d from the whole ones", len(got), len(want))
		}
		for i := range want {
			g, w := got[i], want[i]
			if !reflect.DeepEqual(g.Endpoints, w.Endpoints) || !reflect.DeepEqual(g.Targets, w.Targets) ||
				!reflect.DeepEqual(g.Tiers, w.Tiers) || !reflect.DeepEqual(g.Skipped, w.Skipped) {
				t.Fatalf("route from the compacted records:\n%+v %v %+v\nfrom the whole ones:\n%+v %v %+v", g.Endpoints, g.Targets, g.Skipped, w.Endpoints, w.Targets, w.Skipped)
			}
		}
	})
}
