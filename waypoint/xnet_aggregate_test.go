package waypoint

import (
	"errors"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/waypoint/table"
)

// aggregatedFromWest is the service on waypoint port wp, imported by east and west from west,
// with its remote endpoints aggregated (or not).
func aggregatedFromWest(wp int32, aggregated bool) *store.ServiceRecord {
	return edit(serviceImportedBy(wp, model.ModeAny, "west"), func(s *model.PublishedService) {
		if aggregated {
			s.Load = &model.LoadPolicy{RemoteEndpoints: model.RemoteEndpointsAggregated}
		}
	})
}

// TestAggregatedRemoteCluster: east routes the other network's cluster west as one endpoint,
// tunnelled to the service by name; west's inbound server balances the tunnels over its own
// endpoints and moves past one that refuses connections, so that every round trip lands on a
// live backend. Turned off, east reads west's records again whole and routes them one by one.
// A tunnel that names a service whose endpoints are not aggregated is refused,
// and one whose cluster has no ready endpoint left is answered 503 no-local-endpoint.
func TestAggregatedRemoteCluster(t *testing.T) {
	for _, proto := range []hbone.Protocol{hbone.ProtocolH2, hbone.ProtocolH3} {
		t.Run(proto.String(), func(t *testing.T) {
			x := newXnet(t, proto, nil)
			w1, w2 := startBackend(t, "w1", "127.0.0.51"), startBackend(t, "w2", "127.0.0.52")
			dead := endpoint("127.0.0.53", deadAddress(t, "127.0.0.53"), otherNetwork)
			port := int32(freePort(t))
			peer := x.west.Inbound().Addr()
			svc := aggregatedFromWest(port, true)
			x.put(svc, endpoints("west", w1.endpoint(otherNetwork), w2.endpoint(otherNetwork), dead), waypointsRecord("west", "n2", peer))
			x.waitTunneled(port, 1)
			if r := x.wp.Table().View().Route(port); r.Targets[0] != table.ServiceTarget(svc.Hostname, 80) || r.Endpoints[0].Weight != 3 {
				t.Fatalf("east's route: targets %v, endpoints %+v; want west as one endpoint of weight 3", r.Targets, r.Endpoints)
			}

			counts := spread(t, port, 60)
			if counts[""] != 0 || counts["w1"] == 0 || counts["w2"] == 0 {
				t.Fatalf("round trips by backend %v, want all answered, by both of west's live backends", counts)
			}
			local, ok := x.west.Table().View().LocalService(svc.Hostname, 80, "east")
			if !ok {
				t.Fatal("west serves no tunnel naming the service")
			}
			for i, h := range local.Hosts() {
				if local.Targets[i] == "127.0.0.53:"+itoa(dead.Ports[0].Port) && h.Failures() == 0 {
					t.Fatal("west never tried its dead endpoint: the test proves no retry")
				}
			}

			via := table.NewPeers("west", "spiffe://cluster.local/ns/shop/sa/meshfed-waypoint", peer)
			dialWest := func() error {
				c, err := x.wp.Outbound().tunnels.Dial(t.Context(), via, table.ServiceTarget(svc.Hostname, 80))
				if err == nil {
					_ = c.Close()
				}
				return err
			}
			// Not aggregated any more: east reads west's records again whole (it kept them
			// compacted) and routes them one by one; naming the service is refused.
			x.put(aggregatedFromWest(port, false))
			x.waitRoute("east routes west's endpoints one by one again", port, func(r *table.Route) bool {
				return r != nil && !r.Aggregated && len(r.Endpoints) == 3 && r.Targets[0] == w1.endpoint(otherNetwork).Address+":"+itoa(w1.port)
			})
			x.eventually("west stops serving the service by name", func() bool {
				_, ok := x.west.Table().View().LocalService(svc.Hostname, 80, "east")
				return !ok
			})
			if e, ok := errors.AsType[*hbone.Error](dialWest()); !ok || e.Status != 403 || e.Reason != ReasonTargetNotAllowed {
				t.Fatalf("tunnel naming a service not aggregated: %v, want 403 %s", e, ReasonTargetNotAllowed)
			}
			// Aggregated, but none of west's endpoints ready.
			notReady := func(ep model.Endpoint) model.Endpoint { ep.Ready = false; return ep }
			x.put(svc, endpoints("west", notReady(w1.endpoint(otherNetwork)), notReady(w2.endpoint(otherNetwork))))
			x.eventually("west serves the service by name again", func() bool {
				r, ok := x.west.Table().View().LocalService(svc.Hostname, 80, "east")
				return ok && len(r.Endpoints) == 0
			})
			if e, ok := errors.AsType[*hbone.Error](dialWest()); !ok || e.Status != 503 || e.Reason != ReasonNoLocalEndpoint {
				t.Fatalf("tunnel naming a service with no ready endpoint: %v, want 503 %s", e, ReasonNoLocalEndpoint)
			}
		})
	}
}
