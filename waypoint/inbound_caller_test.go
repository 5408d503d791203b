package waypoint

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/hbone/identity"
)

// gatewayNS is the namespace the tests' shared gateways run in.
const gatewayNS = "meshfed-system"

// gatewayID is the SPIFFE ID of the tests' shared gateways.
var gatewayID = "spiffe://" + DefaultTrustDomain + "/ns/" + gatewayNS + "/sa/" + wellknown.GatewayName

// gatewayRecord is namespace ns's waypoints record of cluster naming the shared gateway at
// addrs.
func gatewayRecord(ns, cluster, network string, addrs ...string) *store.WaypointsRecord {
	return &store.WaypointsRecord{Namespace: ns, Cluster: cluster, Network: network, Addresses: addrs, Gateway: gatewayNS, Identity: gatewayID}
}

// tunnelTo opens a tunnel with src's credentials through the HBONE server at addr to target.
func tunnelTo(t *testing.T, src identity.Source, addr string, target netip.AddrPort) (net.Conn, error) {
	t.Helper()
	d, err := hbone.NewDialer(hbone.Options{Source: src, Logger: testLogger})
	if err != nil {
		t.Fatalf("NewDialer: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	return d.Dial(ctx, hbone.Peer{Address: addr, Protocol: hbone.ProtocolH2}, target, hbone.Metadata{})
}

// refusedWith reports whether err is the server's 403 with reason.
func refusedWith(err error, reason string) bool {
	he, ok := errors.AsType[*hbone.Error](err)
	return ok && he.Kind == hbone.KindRefused && he.Status == http.StatusForbidden && he.Reason == reason
}

// TestInboundAdmitsPublishedGateway: west's shop waypoint admits the shared gateway of east
// only while shop's waypoints record of east names it (and closes its open tunnels when the
// record stops naming it); the same gateway identity published for another namespace, or for
// shop in another cluster than the one its certificate names, is refused.
func TestInboundAdmitsPublishedGateway(t *testing.T) {
	x := newXnet(t, hbone.ProtocolH2, nil)
	bport := serveOne(t, "127.0.0.51", func(c *net.TCPConn) { _, _ = io.Copy(c, c) })
	target := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.51"), uint16(bport))
	x.put(serviceImportedBy(int32(freePort(t)), model.ModeAny, "east", "west"), endpoints("west", endpoint("127.0.0.51", bport, otherNetwork)))
	x.eventually("west's table", func() bool { return x.west.Table().View().Accepts(target, "east") })
	gw := x.pki.source(t, gatewayNS, wellknown.GatewayName, "east")
	server := x.west.Inbound().Addr()

	if _, err := tunnelTo(t, gw, server, target); !refusedWith(err, ReasonCallerNotAllowed) {
		t.Fatalf("unpublished gateway: %v, want 403 %s", err, ReasonCallerNotAllowed)
	}
	// Published for bank in east, and for shop in north: neither lets east's gateway into shop.
	x.put(gatewayRecord("bank", "east", "n1", "127.0.0.70:15008"), gatewayRecord("shop", "north", "n2", "127.0.0.71:15008"))
	x.eventually("north's record in west's table", func() bool { return x.west.Table().View().Publishes("north", gatewayID) })
	if _, err := tunnelTo(t, gw, server, target); !refusedWith(err, ReasonCallerNotAllowed) {
		t.Fatalf("gateway published for bank and for shop in north: %v, want 403 %s", err, ReasonCallerNotAllowed)
	}

	x.put(gatewayRecord("shop", "east", "n1", "127.0.0.70:15008"))
	x.eventually("east's gateway in west's table", func() bool { return x.west.Table().View().Publishes("east", gatewayID) })
	c, err := tunnelTo(t, gw, server, target)
	if err != nil {
		t.Fatalf("gateway published for shop in east: %v", err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "ping"); err != nil {
		t.Fatalf("write: %v", err)
	}
	if buf := make([]byte, 4); func() error { _, err := io.ReadFull(c, buf); return err }() != nil || string(buf) != "ping" {
		t.Fatalf("no echo through the gateway's tunnel: %q", buf)
	}

	// East's shop gets a waypoint of its own: the gateway's open tunnel is closed (the backend
	// would close it only after waitTimeout), new ones are refused.
	closed := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		closed <- err
	}()
	x.put(waypointsRecord("east", "n1", "127.0.0.72:15008"))
	select {
	case err := <-closed:
		if err == nil {
			t.Fatal("the gateway's tunnel carried data after its record was withdrawn")
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the gateway's tunnel still open 3 s after its record was withdrawn")
	}
	if _, err := tunnelTo(t, gw, server, target); !refusedWith(err, ReasonCallerNotAllowed) {
		t.Fatalf("gateway after its record was withdrawn: %v, want 403 %s", err, ReasonCallerNotAllowed)
	}
	// The namespace's own waypoints are admitted throughout.
	if c, err := tunnelTo(t, x.pki.waypointSource(t, "east"), server, target); err != nil {
		t.Fatalf("shop's waypoint of east: %v", err)
	} else {
		_ = c.Close()
	}
}
