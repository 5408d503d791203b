package tunnel

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/hbone/identity"
	"github.com/meshfed/meshfed/waypoint/internal/wptest"
	"github.com/meshfed/meshfed/waypoint/table"
)

const (
	shopWaypoint = "spiffe://cluster.local/ns/shop/sa/meshfed-waypoint"
	gateway      = "spiffe://cluster.local/ns/meshfed-system/sa/meshfed-gateway"
)

// testCA issues SPIFFE certificates of cluster.local from a fresh development root.
type testCA struct{ ca *identity.CA }

func (c testCA) source(t *testing.T, id, cluster string) identity.Source {
	t.Helper()
	issued, err := c.ca.Issue(identity.Workload{ID: mustID(t, id), Cluster: cluster}, time.Hour)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	m, err := identity.NewMaterial(issued.CertPEM, issued.KeyPEM, c.ca.CertPEM())
	if err != nil {
		t.Fatalf("NewMaterial: %v", err)
	}
	return identity.NewStaticSource(m)
}

func mustID(t *testing.T, s string) identity.ID {
	t.Helper()
	id, err := identity.ParseID(s)
	if err != nil {
		t.Fatalf("ParseID(%q): %v", s, err)
	}
	return id
}

// serve runs an HBONE server presenting id (of cluster west) that carries every tunnel to an
// echo listener, and returns its address.
func serve(t *testing.T, ca testCA, id string) string {
	t.Helper()
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() { _ = echo.Close() })
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	srv, err := hbone.NewServer(hbone.ServerOptions{
		Source: ca.source(t, id, "west"), Logger: wptest.Logger,
		Handler: hbone.HandlerFunc(func(ctx context.Context, _ *hbone.Request) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", echo.Addr().String())
		}),
	})
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	tcp, udp, err := hbone.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatalf("hbone.Listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(tcp, udp) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	return tcp.Addr().String()
}

// TestDialExpectsEachPeersIdentity: one dialer tunnels through a shop waypoint and a shared
// gateway, each expected to present its own ID; a peer presenting another ID than its
// table.Peers names is refused with the identity failure, and an empty or malformed expected
// ID never dials at all.
func TestDialExpectsEachPeersIdentity(t *testing.T) {
	root, err := identity.NewRootCA("cluster.local", time.Hour)
	if err != nil {
		t.Fatalf("NewRootCA: %v", err)
	}
	ca := testCA{ca: root}
	waypointAddr, gatewayAddr := serve(t, ca, shopWaypoint), serve(t, ca, gateway)
	d, err := New(Config{
		Source: ca.source(t, "spiffe://cluster.local/ns/shop/sa/meshfed-waypoint", "east"), Timeout: 5 * time.Second, Logger: wptest.Logger,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(d.Close)
	const target = "192.0.2.7:8080" // the servers carry every tunnel to their echo listener
	for _, tc := range []struct {
		name, addr, id string
		kind           hbone.Kind // 0: the tunnel opens
		notDialed      string     // the error names this, and no connection is made
	}{
		{name: "waypoint as waypoint", addr: waypointAddr, id: shopWaypoint},
		{name: "gateway as gateway", addr: gatewayAddr, id: gateway},
		{name: "waypoint where the gateway is expected", addr: waypointAddr, id: gateway, kind: hbone.KindIdentity},
		{name: "gateway where the waypoint is expected", addr: gatewayAddr, id: shopWaypoint, kind: hbone.KindIdentity},
		{name: "no identity expected", addr: gatewayAddr, id: "", notDialed: "none expected"},
		{name: "malformed identity", addr: gatewayAddr, id: "spiffe://", notDialed: "failed to parse peer identity"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := d.Dial(t.Context(), table.NewPeers("west", tc.id, tc.addr), target)
			switch {
			case tc.notDialed != "":
				if err == nil || !strings.Contains(err.Error(), tc.notDialed) || hbone.KindOf(err) != 0 {
					t.Fatalf("Dial: %v, want an error saying %q before any dial", err, tc.notDialed)
				}
			case tc.kind != 0:
				if he, ok := errors.AsType[*hbone.Error](err); !ok || he.Kind != tc.kind {
					t.Fatalf("Dial: %v, want a %s failure", err, tc.kind)
				}
			default:
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				defer c.Close()
				if _, err := io.WriteString(c, "ping"); err != nil {
					t.Fatalf("write: %v", err)
				}
				buf := make([]byte, 4)
				if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
					t.Fatalf("echo %q, %v", buf, err)
				}
				// The pool is keyed by the expected identity too.
				if n := d.ConnCount(tc.addr, "west", tc.id, hbone.ProtocolH2); n != 1 {
					t.Fatalf("%d pooled connections to %s as %s, want 1", n, tc.addr, tc.id)
				}
			}
		})
	}
	if n := d.ConnCount(waypointAddr, "west", gateway, hbone.ProtocolH2); n != 0 {
		t.Fatalf("%d pooled connections to the waypoint as the gateway, want none", n)
	}
}
