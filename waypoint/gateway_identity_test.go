package waypoint

import (
	"context"
	"net"
	"sync/atomic"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/hbone/identity"
)

// TestGatewayPeerMustPresentTheRecordsIdentity: shop's record of west names a shared gateway,
// but the server at its address presents shop's waypoint identity of west (one that a record
// without a gateway would rightly expect there): east's dialer refuses it, no tunnel is
// opened through it. Once the record names no gateway, the same server is the peer expected.
func TestGatewayPeerMustPresentTheRecordsIdentity(t *testing.T) {
	x := newXnet(t, hbone.ProtocolH2, func(o *Options) { o.Outlier.Disabled = true })
	var proxied atomic.Int64
	peer := serveHBONE(t, x.pki.waypointSource(t, "west"), "127.0.0.65:0", &proxied)
	b := startBackend(t, "w", "127.0.0.51")
	port := int32(freePort(t))
	x.put(
		serviceImportedBy(port, model.ModeAny, "east", "west"),
		endpoints("west", b.endpoint(otherNetwork)),
		gatewayRecord("shop", "west", "n2", peer),
	)
	x.waitTunneled(port, 1)
	_, err := roundTrip(port)
	if err == nil {
		t.Fatal("a connection went through a peer presenting another identity than the record's")
	}
	row := debugEndpoint(t, x.env, port, "127.0.0.51:"+itoa(b.port))
	if proxied.Load() != 0 || b.accepted.Load() != 0 || row.Failures == 0 || row.ViaIdentity != gatewayID {
		t.Fatalf("impostor carried %d tunnels, backend accepted %d, debug row %+v; want none, none and a failure expecting %s",
			proxied.Load(), b.accepted.Load(), row, gatewayID)
	}

	x.put(waypointsRecord("west", "n2", peer))
	const shopWaypoint = "spiffe://cluster.local/ns/shop/sa/meshfed-waypoint"
	x.eventually("route expecting shop's waypoint", func() bool {
		return debugEndpoint(t, x.env, port, "127.0.0.51:"+itoa(b.port)).ViaIdentity == shopWaypoint
	})
	if name, err := roundTrip(port); err != nil || name != "w" || proxied.Load() != 1 {
		t.Fatalf("through the peer expected as shop's waypoint: answered by %q, %v, %d tunnels; want w through it", name, err, proxied.Load())
	}
}

// serveHBONE runs an HBONE server with src's credentials at addr that carries every tunnel to
// its target, counting them, and returns its address.
func serveHBONE(t *testing.T, src identity.Source, addr string, proxied *atomic.Int64) string {
	t.Helper()
	srv, err := hbone.NewServer(hbone.ServerOptions{
		Source: src, Logger: testLogger,
		Handler: hbone.HandlerFunc(func(ctx context.Context, req *hbone.Request) (net.Conn, error) {
			proxied.Add(1)
			var d net.Dialer
			return d.DialContext(ctx, "tcp", req.Target.String())
		}),
	})
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	tcp, udp, err := hbone.Listen(addr)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(tcp, udp) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	return tcp.Addr().String()
}
