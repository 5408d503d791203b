package waypoint

import (
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/hbone"
)

// TestInboundRevokesTunnels opens a TCP tunnel from east through west's inbound server to an
// echo backend, then changes the store under it: an endpoint that stops being ready keeps its
// open tunnel (it drains), an import that is withdrawn closes it.
func TestInboundRevokesTunnels(t *testing.T) {
	x := newXnet(t, hbone.ProtocolH2, nil)
	bport := serveOne(t, "127.0.0.51", func(c *net.TCPConn) { _, _ = io.Copy(c, c) })
	port := int32(freePort(t))
	peer := x.west.Inbound().Addr()
	ep := endpoint("127.0.0.51", bport, otherNetwork)
	x.put(serviceImportedBy(port, model.ModeAny, "east", "west"), endpoints("west", ep), waypointsRecord("west", "n2", peer))
	x.waitTunneled(port, 1)

	c := dialWaypoint(t, port)
	echo := func(msg string) error {
		if _, err := io.WriteString(c, msg); err != nil {
			return err
		}
		buf := make([]byte, len(msg))
		_, err := io.ReadFull(c, buf)
		if err == nil && string(buf) != msg {
			t.Fatalf("echo %q, want %q", buf, msg)
		}
		return err
	}
	if err := echo("before"); err != nil {
		t.Fatalf("echo through the tunnel: %v", err)
	}
	target := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.51"), uint16(bport))

	// Not ready: no new tunnels, the open one stays.
	ep.Ready = false
	x.put(endpoints("west", ep))
	x.eventually("west refuses new tunnels to the unready endpoint", func() bool {
		return !x.west.Table().View().Accepts(target, "east")
	})
	time.Sleep(100 * time.Millisecond) // the revocation check runs after the swap
	if err := echo("draining"); err != nil || x.west.Inbound().ActiveTunnels() != 1 {
		t.Fatalf("open tunnel to an endpoint that became unready: %v, %d tunnels; want it kept", err, x.west.Inbound().ActiveTunnels())
	}

	// East no longer imports the service from west: the tunnel is closed.
	// (The backend's connection has a deadline of waitTimeout from its accept, which would end
	// the tunnel too: the revocation must come well before.)
	x.put(serviceImportedBy(port, model.ModeAny, "east"))
	for deadline := time.Now().Add(3 * time.Second); x.west.Inbound().ActiveTunnels() != 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("west kept the tunnel 3 s after east's import was withdrawn")
		}
	}
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("client connection still carries data after the tunnel was revoked")
	}
}
