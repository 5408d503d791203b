package waypoint

import (
	"net/http"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/hbone"
)

// TestHTTPOverHBONEKeepsTunnels sends sequential requests of a per-request route to an
// endpoint on another network: they share one kept-alive connection, which is one tunnel.
func TestHTTPOverHBONEKeepsTunnels(t *testing.T) {
	for _, proto := range []hbone.Protocol{hbone.ProtocolH2, hbone.ProtocolH3} {
		t.Run(proto.String(), func(t *testing.T) {
			x := newXnet(t, proto, nil)
			west := startHTTPBackend(t, "west-1", "127.0.0.51")
			port := int32(freePort(t))
			svc := httpService(port, model.ModeAny, "http", "http")
			svc.Imports = serviceImportedBy(port, model.ModeAny, "east", "west").Imports
			x.put(svc, endpoints("west", west.endpoint(otherNetwork)), waypointsRecord("west", "n2", x.west.Inbound().Addr()))
			x.waitTunneled(port, 1)
			c := newClient(t)
			for i := range 30 {
				if r := get(t.Context(), c, port); r.err != nil || r.code != http.StatusOK || r.backend != "west-1" || r.cluster != "west" {
					t.Fatalf("request %d: %+v", i, r)
				}
			}
			if n := x.west.Inbound().ActiveTunnels(); n != 1 {
				t.Fatalf("west holds %d tunnels after 30 sequential requests, want the 1 kept alive", n)
			}
		})
	}
}
