package waypoint

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/waypoint/table"
)

// xnet is a two-network test mesh on one store: the harness waypoint of cluster east on
// network n1 (outbound on 127.0.0.1) and a waypoint of cluster west on network n2 (outbound on
// 127.0.0.62, HBONE on 127.0.0.61), both with the shop waypoint identity.
type xnet struct {
	*env
	pki  *testPKI
	west *Waypoint
}

func newXnet(t *testing.T, proto hbone.Protocol, tuneEast func(*Options)) *xnet {
	t.Helper()
	pki := newTestPKI(t)
	e := newEnv(t, func(o *Options) {
		withHBONE(pki.waypointSource(t, "east"), proto, "")(o)
		if tuneEast != nil {
			tuneEast(o)
		}
	})
	west := e.startWaypoint(Options{
		Cluster: "west", Locality: westWaypoint, ListenHost: "127.0.0.62", ConnectTimeout: time.Second,
		HBONE: HBONEOptions{Identity: pki.waypointSource(t, "west"), Protocol: proto, ListenAddress: "127.0.0.61:0"},
	})
	return &xnet{env: e, pki: pki, west: west}
}

// waitTunneled waits until east routes port to n endpoints, all through tunnels.
func (x *xnet) waitTunneled(port int32, n int) {
	x.t.Helper()
	x.waitRoute("tunneled route", port, func(r *table.Route) bool {
		if r == nil || len(r.Endpoints) != n {
			return false
		}
		for _, h := range r.Hosts() {
			if r.Via(h) == nil {
				return false
			}
		}
		return true
	})
	x.eventually("listener", func() bool { return slices.Contains(x.wp.Outbound().Ports(), port) })
}

func TestCrossNetworkThroughHBONE(t *testing.T) {
	payload := make([]byte, 256<<10)
	_, _ = rand.Read(payload)
	for _, proto := range []hbone.Protocol{hbone.ProtocolH2, hbone.ProtocolH3} {
		t.Run(proto.String(), func(t *testing.T) {
			x := newXnet(t, proto, nil)
			got := make(chan []byte, 1)
			reply := make(chan struct{})
			// The backend lives only in west: it reads until the client's half-close arrives as
			// EOF, then answers and half-closes.
			bport := serveOne(t, "127.0.0.51", func(c *net.TCPConn) {
				data, _ := io.ReadAll(c)
				got <- data
				select {
				case <-reply:
				case <-time.After(waitTimeout):
					return
				}
				_, _ = c.Write(append([]byte("len "), data...))
				_ = c.CloseWrite()
			})
			port := int32(freePort(t))
			peer := x.west.Inbound().Addr()
			x.put(
				serviceImportedBy(port, model.ModeAny, "east", "west"),
				endpoints("west", endpoint("127.0.0.51", bport, otherNetwork)),
				waypointsRecord("west", "n2", peer),
			)
			x.waitTunneled(port, 1)

			c := dialWaypoint(t, port)
			if _, err := c.Write(payload); err != nil {
				t.Fatalf("write: %v", err)
			}
			if err := c.CloseWrite(); err != nil {
				t.Fatalf("CloseWrite: %v", err)
			}
			var up []byte
			select {
			case up = <-got:
			case <-time.After(waitTimeout):
				t.Fatal("the backend never saw the client's half-close")
			}
			if !bytes.Equal(up, payload) {
				t.Fatalf("backend received %d bytes, want the %d sent", len(up), len(payload))
			}
			// The connection is open through west's inbound server and over the asked transport.
			if n := x.west.Inbound().ActiveTunnels(); n != 1 {
				t.Fatalf("west has %d active tunnels, want 1", n)
			}
			if n := x.wp.Outbound().tunnels.ConnCount(peer, "west", "spiffe://cluster.local/ns/shop/sa/meshfed-waypoint", proto); n != 1 {
				t.Fatalf("east holds %d %s connections to %s, want 1", n, proto, peer)
			}
			close(reply)
			back, err := io.ReadAll(c)
			if err != nil || !bytes.Equal(back, append([]byte("len "), payload...)) {
				t.Fatalf("client received %d bytes (%v), want the backend's %d-byte answer", len(back), err, len(payload)+4)
			}
			row := debugEndpoint(t, x.env, port, "127.0.0.51:"+itoa(bport))
			if !slices.Equal(row.Via, []string{peer}) || row.Connects != 1 || row.Failures != 0 {
				t.Fatalf("debug row %+v, want one connect via %s", row, peer)
			}
		})
	}
}

func TestInboundRefusesOverTheWire(t *testing.T) {
	x := newXnet(t, hbone.ProtocolH2, nil)
	ready, unready := startBackend(t, "r", "127.0.0.51"), startBackend(t, "u", "127.0.0.52")
	stray := startBackend(t, "s", "127.0.0.53")
	notReady := unready.endpoint(otherNetwork)
	notReady.Ready = false
	x.put(
		serviceImportedBy(int32(freePort(t)), model.ModeAny, "east", "west"),
		endpoints("west", ready.endpoint(otherNetwork), notReady),
	)
	x.eventually("west's table", func() bool {
		return x.west.Table().View().Accepts(netip.AddrPortFrom(netip.MustParseAddr(ready.ip), uint16(ready.port)), "east")
	})
	// dial opens a tunnel as ns/sa with a certificate naming cluster, claiming east in its
	// Baggage as a waypoint of east would.
	dial := func(ns, sa, cluster string, target *backend) error {
		t.Helper()
		d, err := hbone.NewDialer(hbone.Options{Source: x.pki.source(t, ns, sa, cluster), Locality: hbone.Locality{Cluster: "east", Namespace: ns}, Logger: testLogger})
		if err != nil {
			t.Fatalf("NewDialer: %v", err)
		}
		defer d.Close()
		ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
		defer cancel()
		peer := hbone.Peer{Address: x.west.Inbound().Addr(), Protocol: hbone.ProtocolH2}
		c, err := d.Dial(ctx, peer, netip.AddrPortFrom(netip.MustParseAddr(target.ip), uint16(target.port)), hbone.Metadata{})
		if err == nil {
			_ = c.Close()
		}
		return err
	}
	forbidden := func(err error, reason string) bool {
		he, ok := errors.AsType[*hbone.Error](err)
		return ok && he.Kind == hbone.KindRefused && he.Status == http.StatusForbidden && he.Reason == reason
	}
	if err := dial("shop", ServiceAccount, "east", ready); err != nil {
		t.Fatalf("the shop waypoint to a ready endpoint: %v", err)
	}
	// The kernel completes the backend's connection before its accept loop counts it, so the
	// tunnel can be up while the count still reads 0: wait for it before taking the baseline.
	waitAccepted(t, ready, 1)
	before := ready.accepted.Load()
	if err := dial("shop", ServiceAccount, "east", unready); !forbidden(err, ReasonTargetNotAllowed) {
		t.Errorf("unready endpoint: %v, want 403", err)
	}
	if err := dial("shop", ServiceAccount, "east", stray); !forbidden(err, ReasonTargetNotAllowed) {
		t.Errorf("address of no endpoint: %v, want 403", err)
	}
	if err := dial("other", ServiceAccount, "east", ready); !forbidden(err, ReasonCallerNotAllowed) {
		t.Errorf("waypoint of another namespace: %v, want 403", err)
	}
	// A waypoint of north, whose scope lets it import nothing from west, claims to be east.
	if err := dial("shop", ServiceAccount, "north", ready); !forbidden(err, ReasonTargetNotAllowed) {
		t.Errorf("waypoint of north claiming east: %v, want 403", err)
	}
	// A certificate that names no cluster cannot claim one either.
	if err := dial("shop", ServiceAccount, "", ready); !forbidden(err, ReasonNoCallerCluster) {
		t.Errorf("certificate without cluster claiming east: %v, want 403 %s", err, ReasonNoCallerCluster)
	}
	if unready.accepted.Load() != 0 || stray.accepted.Load() != 0 || ready.accepted.Load() != before {
		t.Fatalf("denied tunnels reached backends: unready %d, stray %d, ready %d (was %d)",
			unready.accepted.Load(), stray.accepted.Load(), ready.accepted.Load(), before)
	}
}

func TestRefusedAndUnreachablePeersAreRetried(t *testing.T) {
	x := newXnet(t, hbone.ProtocolH2, func(o *Options) { o.Outlier.Disabled = true })
	w1, w2 := startBackend(t, "w", "127.0.0.51"), startBackend(t, "w", "127.0.0.56")
	deadPeer := "127.0.0.63:" + itoa(deadAddress(t, "127.0.0.63"))
	port := int32(freePort(t))
	// north's waypoint record points at west's server, which is not north's (its certificate
	// names west); south's points at an address nothing listens on. Two live endpoints keep the
	// tier out of panic when both failing ones have been tried (2 of 4 healthy: 70%), so the
	// last retry always lands on a live one.
	x.put(
		serviceImportedBy(port, model.ModeAny, "east", "north", "south", "west"),
		endpoints("west", w1.endpoint(otherNetwork), w2.endpoint(otherNetwork)),
		endpoints("north", endpoint("127.0.0.54", 8080, northNetwork)),
		endpoints("south", endpoint("127.0.0.55", 8080, southNetwork)),
		waypointsRecord("west", "n2", x.west.Inbound().Addr()),
		waypointsRecord("north", "n2", x.west.Inbound().Addr()),
		waypointsRecord("south", "n3", deadPeer),
	)
	x.waitTunneled(port, 4)

	const n = 40
	for i := range n {
		if name, err := roundTrip(port); err != nil || name != "w" {
			t.Fatalf("connection %d: answered by %q, %v; want w", i, name, err)
		}
	}
	north := debugEndpoint(t, x.env, port, "127.0.0.54:8080")
	south := debugEndpoint(t, x.env, port, "127.0.0.55:8080")
	t.Logf("north failures %d, south failures %d over %d connections", north.Failures, south.Failures, n)
	// Uniform first picks over 4 endpoints: each failing one is tried first by about a quarter.
	if north.Failures < n/8 || south.Failures < n/8 {
		t.Fatalf("north %d and south %d failures, want about %d each: retries not exercised", north.Failures, south.Failures, n/4)
	}
	if got := w1.accepted.Load() + w2.accepted.Load(); got != n {
		t.Fatalf("live backends accepted %d connections, want %d", got, n)
	}
}

func TestWaypointStopsWhenHBONEPortIsTaken(t *testing.T) {
	x := newXnet(t, hbone.ProtocolH2, nil)
	wp, err := New(Options{
		Namespace: "shop", Cluster: "west", Locality: westWaypoint, ListenHost: "127.0.0.64", Logger: testLogger,
		HBONE: HBONEOptions{Identity: x.pki.waypointSource(t, "west"), ListenAddress: x.west.Inbound().Addr()},
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	if err := wp.Run(ctx, x.connect()); err == nil || ctx.Err() != nil {
		t.Fatalf("Run with the HBONE port taken: %v (context %v), want a listen error before the timeout", err, ctx.Err())
	}
}

// TestImpostorPeerIsNeverUsed: a peer address whose server presents another identity than the
// namespace's waypoint (here shop's "web" account, willing to proxy anything) fails the TLS
// identity check, so no tunnel is opened through it and the connection is retried on another
// endpoint.
func TestImpostorPeerIsNeverUsed(t *testing.T) {
	x := newXnet(t, hbone.ProtocolH2, func(o *Options) { o.Outlier.Disabled = true })
	w1, w2 := startBackend(t, "w", "127.0.0.51"), startBackend(t, "w", "127.0.0.56")
	var proxied atomic.Int64
	impostor, err := hbone.NewServer(hbone.ServerOptions{
		Source: x.pki.source(t, "shop", "web", "north"), Logger: testLogger,
		Handler: hbone.HandlerFunc(func(ctx context.Context, req *hbone.Request) (net.Conn, error) {
			proxied.Add(1)
			var d net.Dialer
			return d.DialContext(ctx, "tcp", req.Target.String())
		}),
	})
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	tcp, udp, err := hbone.Listen("127.0.0.65:0")
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- impostor.Serve(tcp, udp) }()
	t.Cleanup(func() { _ = impostor.Close(); <-done })
	port := int32(freePort(t))
	x.put(
		serviceImportedBy(port, model.ModeAny, "east", "north", "west"),
		endpoints("west", w1.endpoint(otherNetwork), w2.endpoint(otherNetwork)),
		endpoints("north", endpoint("127.0.0.51", w1.port, northNetwork)), // w1 again, via the impostor
		waypointsRecord("west", "n2", x.west.Inbound().Addr()),
		waypointsRecord("north", "n2", tcp.Addr().String()),
	)
	x.waitTunneled(port, 3)
	const n = 30
	for i := range n {
		if name, err := roundTrip(port); err != nil || name != "w" {
			t.Fatalf("connection %d: answered by %q, %v; want w", i, name, err)
		}
	}
	if proxied.Load() != 0 {
		t.Fatalf("the impostor carried %d tunnels", proxied.Load())
	}
	var north *table.DebugEndpoint
	for _, ep := range x.wp.Table().Debug().Routes[0].Endpoints {
		if ep.Cluster == "north" {
			north = &ep
		}
	}
	if north == nil || north.Failures == 0 {
		t.Fatal("the endpoint behind the impostor was never tried: test proves nothing")
	}
}
