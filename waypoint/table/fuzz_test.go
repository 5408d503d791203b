package table

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/priority"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/waypoint/internal/wptest"
)

// FuzzTableInvariants builds tables from arbitrary endpoint sets and checks what the data path
// relies on: every routed endpoint serves the port and is on the waypoint's network or tunneled
// through a waypoint of its own cluster (only with HBONE on), every addressable endpoint is
// either routed or skipped, and a pick stays inside the route. Bits of xnet turn HBONE on (1)
// and give east (2) and west (4) a waypoint record.
func FuzzTableInvariants(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7}, uint8(0), uint8(0))
	f.Add([]byte{255, 17, 3, 9, 4, 128, 64, 2, 1, 1, 1, 1}, uint8(3), uint8(5))
	f.Add([]byte{3, 0, 2, 1, 7, 0, 6, 1}, uint8(1), uint8(7))
	modes := []model.Mode{model.ModeAny, model.ModePreferNetwork, model.ModePreferCluster, model.ModePreferRegion, model.ModePreferClose, model.ModePreferSameNode}
	f.Fuzz(func(t *testing.T, data []byte, mode, xnet uint8) {
		if len(data) > 400 {
			return
		}
		byCluster := map[string][]model.Endpoint{}
		for i := 0; i+1 < len(data); i += 2 {
			a, b := data[i], data[i+1]
			cluster := []string{"east", "west"}[a&1]
			loc := model.Locality{
				Network: fmt.Sprintf("n%d", a>>1&1), Region: fmt.Sprintf("r%d", a>>2&1),
				Zone: fmt.Sprintf("z%d", a>>3&1), Node: fmt.Sprintf("node%d", a>>4&1), Cluster: cluster,
			}
			ep := wptest.Endpoint(fmt.Sprintf("10.0.%d.%d", i/256, i%256), int32(b)+1, loc)
			ep.Ready, ep.Serving, ep.Terminating = b&1 == 0, b&2 == 0, b&4 != 0
			if a&32 != 0 {
				ep.Ports[0].Name = "other"
			}
			byCluster[cluster] = append(byCluster[cluster], ep)
		}
		svc := wptest.Service(20000, modes[int(mode)%len(modes)])
		events := wptest.Put(1, svc)
		for c, eps := range byCluster {
			events = append(events, wptest.Put(1, wptest.Endpoints(c, eps...))...)
		}
		records := map[string]*store.WaypointsRecord{}
		for i, c := range []string{"east", "west"} {
			if xnet&(2<<i) != 0 {
				records[c] = wptest.WaypointsRecord(c, "n"+strconv.Itoa(i), "192.0.2."+strconv.Itoa(i+1)+":15008")
				events = append(events, wptest.Put(1, records[c])...)
			}
		}
		tab := newTestTable(t)
		if xnet&1 != 0 {
			tab = newTunnelTable(t)
		}
		tab.Apply(store.Batch{Snapshot: true, Revision: 1, Events: events})
		r := tab.View().Route(20000)
		if r == nil {
			t.Fatal("no route")
		}
		total := 0
		for _, eps := range byCluster {
			total += len(eps)
		}
		if got := len(r.Endpoints) + len(r.Skipped); got != total {
			t.Fatalf("%d routed + %d skipped, want %d endpoints", len(r.Endpoints), len(r.Skipped), total)
		}
		for i, ep := range r.Endpoints {
			port, ok := ep.TargetPort("tcp")
			if !ok || r.Targets[i] != net.JoinHostPort(ep.Address, strconv.Itoa(int(port))) {
				t.Fatalf("routed endpoint %+v as %s", ep, r.Targets[i])
			}
			via, _ := r.viaAddrs(r.hosts[i])
			if ep.Locality.Network == wptest.Self.Network {
				if via != nil {
					t.Fatalf("same-network endpoint %+v tunneled via %v", ep, via)
				}
				continue
			}
			rec := records[ep.Locality.Cluster]
			if xnet&1 == 0 || rec == nil || !slices.Equal(via, rec.Addresses) {
				t.Fatalf("other-network endpoint %+v routed via %v (HBONE %v, record %v)", ep, via, xnet&1 != 0, rec)
			}
		}
		for _, sk := range r.Skipped {
			switch sk.Reason {
			case SkipNoTargetPort:
			case SkipNoHBONE:
				if xnet&1 != 0 {
					t.Fatalf("skipped %+v for no HBONE while HBONE is on", sk)
				}
			case SkipNoWaypoint:
				if xnet&1 == 0 || records[sk.Cluster] != nil {
					t.Fatalf("skipped %+v for no waypoint (HBONE %v, record %v)", sk, xnet&1 != 0, records[sk.Cluster])
				}
			default:
				t.Fatalf("skipped %+v for an unknown reason", sk)
			}
		}
		src := priority.NewSplitMix(uint64(len(data)))
		lr := priority.NewLeastRequest(src)
		for range 20 {
			i, ok := r.Plan.Pick(src, lr, r)
			if ok && (i < 0 || i >= len(r.Endpoints)) {
				t.Fatalf("picked %d of %d endpoints", i, len(r.Endpoints))
			}
			if !ok && len(r.Endpoints) > 0 && !r.Plan.Load.TotalPanic && r.Plan.Load.Percent[0] == 100 && r.Plan.Tier(0).Len() > 0 {
				t.Fatalf("no pick although tier 0 has candidates")
			}
		}
	})
}
