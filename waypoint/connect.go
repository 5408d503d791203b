package waypoint

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/waypoint/balance"
	"github.com/meshfed/meshfed/waypoint/table"
	"github.com/meshfed/meshfed/waypoint/tunnel"
)

// ErrNoEndpoint reports that a route had no endpoint to try.
var ErrNoEndpoint = errors.New("no endpoint available")

// serve carries one accepted connection to an endpoint of the route on port.
func (o *Outbound) serve(ctx context.Context, c net.Conn, port int32) {
	up, h, err := o.connect(tunnel.WithClientAddr(ctx, c.RemoteAddr()), port)
	r := o.table.View().Route(port)
	o.metrics.connection(r, h)
	if err != nil {
		o.log.Warn("failed to connect client", "client", c.RemoteAddr().String(), "port", port, "error", err)
		return
	}
	defer h.InFlight.Add(-1)
	o.metrics.upstreamOpened(r)
	defer o.metrics.upstreamClosed(r)
	o.mu.Lock()
	if o.conns == nil {
		o.mu.Unlock()
		_ = up.Close()
		return
	}
	o.conns[up] = struct{}{}
	o.mu.Unlock()
	defer o.untrack(up)
	splice(c, up)
}

// connect dials an endpoint picked from the current plan, retrying a failed connect on a
// different endpoint up to Retries times, each try bounded by ConnectTimeout. The returned
// host's in-flight count includes the connection; the caller releases it.
func (o *Outbound) connect(ctx context.Context, port int32) (net.Conn, *balance.Host, error) {
	var tried []*balance.Host
	lastErr := ErrNoEndpoint
	for try := 0; try <= o.opts.Retries; try++ {
		r := o.table.View().Route(port)
		if r == nil {
			return nil, nil, fmt.Errorf("failed to route port %d: %w", port, ErrNoEndpoint)
		}
		h, ok := o.picker.Pick(r, tried)
		if !ok {
			break
		}
		tried = append(tried, h)
		c, err := o.dial(ctx, r, h)
		if err == nil {
			return c, h, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, nil, fmt.Errorf("failed to connect service port %d after %d tries: %w", port, len(tried), lastErr)
}

// dial connects to h, counting it in flight and reporting the result to outlier detection. It
// is the one place that opens a connection to an endpoint; a refused or failed tunnel counts as
// a connect failure like a refused TCP connect, and so does an address the dial guard refuses.
func (o *Outbound) dial(ctx context.Context, r *table.Route, h *balance.Host) (net.Conn, error) {
	h.InFlight.Add(1)
	err := o.guard.check(h.Addr(), r.Via(h) == nil)
	var c net.Conn
	if err == nil {
		c, err = o.open(ctx, r, h) // direct TCP, or HBONE for an endpoint on another network
	}
	if err == nil {
		r.Pool().Success(h)
		return c, nil
	}
	h.InFlight.Add(-1)
	if ctx.Err() != nil {
		return nil, fmt.Errorf("failed to dial endpoint %s: %w", h.Addr(), err)
	}
	if r.Pool().Failure(h, o.table.Clock().Now()) {
		o.log.Warn("ejected endpoint after consecutive connect failures", "service", r.Service(), "port", r.Port, "endpoint", h.Addr(), "cluster", h.Cluster())
		o.table.RefreshRoute(r)
	}
	return nil, fmt.Errorf("failed to dial endpoint %s: %w", h.Addr(), err)
}

// ErrEndpointRefused is wrapped by the error of a dial the waypoint refused because of the
// endpoint's address, whatever the store says.
var ErrEndpointRefused = errors.New("endpoint address refused")

// dialRefusal is why the dial guard refuses an address; its String is the reason label of
// meshfed_waypoint_endpoint_dials_refused_total.
type dialRefusal int

// Refusals of the dial guard; refuseNone lets the dial go ahead.
const (
	refuseNone dialRefusal = iota
	refuseInvalid
	refuseUnspecified
	refuseLoopback
	refuseLinkLocal
	refuseMulticast
	refuseOwnAddress
	numRefusals
)

// String names the refusal as its metric label.
func (r dialRefusal) String() string {
	return [...]string{"none", "invalid", "unspecified", "loopback", "link-local", "multicast", "own-address"}[r]
}

// addressRefusal says why a waypoint must not dial addr whatever the store says: the
// unspecified address (0.0.0.0 and the "this network" block reach the host itself on Linux),
// loopback (the waypoint's own admin and listener ports), link-local unicast (cloud metadata
// servers such as 169.254.169.254) and multicast or broadcast, which no endpoint is.
// allowLoopback lets loopback through, for labs that run every endpoint on one host.
func addressRefusal(addr netip.Addr, allowLoopback bool) dialRefusal {
	addr = addr.Unmap()
	switch {
	case !addr.IsValid() || addr.Zone() != "":
		return refuseInvalid
	case addr.IsUnspecified() || addr.Is4() && addr.As4()[0] == 0:
		return refuseUnspecified
	case addr.IsLoopback():
		if allowLoopback {
			return refuseNone
		}
		return refuseLoopback
	case addr.IsLinkLocalUnicast():
		return refuseLinkLocal
	case addr.IsMulticast() || addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return refuseMulticast
	}
	return refuseNone
}

// ownAddrsTTL is how long the dial guard trusts its list of the host's own addresses.
const ownAddrsTTL = 10 * time.Second

// ownAddrs is the host's interface addresses as the dial guard last read them.
type ownAddrs struct {
	set map[netip.Addr]struct{}
	at  time.Time
}

// dialGuard refuses dials to addresses no endpoint may have (addressRefusal) and, for direct
// dials, to the host's own addresses: a waypoint runs in a pod of its own, so every port on
// its own addresses is the waypoint itself (its admin, listener and HBONE ports). It counts
// what it refuses.
type dialGuard struct {
	allowLoopback  bool
	interfaceAddrs func() ([]net.Addr, error)

	mu      sync.Mutex // serializes refreshes of own
	own     atomic.Pointer[ownAddrs]
	refused [numRefusals]atomic.Uint64
}

func newDialGuard(allowLoopback bool) *dialGuard {
	return &dialGuard{allowLoopback: allowLoopback, interfaceAddrs: net.InterfaceAddrs}
}

// check returns an error wrapping ErrEndpointRefused when target (ip:port) must not be dialed;
// direct is false for a target reached through a tunnel, whose address belongs to another
// network and may equal one of this host's. A tunnel may also name a service (an aggregated
// remote cluster): the peer picks the address, and guards it.
func (g *dialGuard) check(target string, direct bool) error {
	ap, err := netip.ParseAddrPort(target)
	if err != nil && !direct {
		if _, _, serr := hbone.ParseServiceAuthority(target); serr == nil {
			return nil
		}
	}
	r := refuseInvalid
	if err == nil {
		r = addressRefusal(ap.Addr(), g.allowLoopback)
	}
	if r == refuseNone && direct && !(g.allowLoopback && ap.Addr().Unmap().IsLoopback()) && g.isOwn(ap.Addr().Unmap()) {
		r = refuseOwnAddress
	}
	if r == refuseNone {
		return nil
	}
	g.refused[r].Add(1)
	return fmt.Errorf("%w: %s address", ErrEndpointRefused, r)
}

// isOwn reports whether a is one of the host's interface addresses, rereading them when the
// list is older than ownAddrsTTL.
func (g *dialGuard) isOwn(a netip.Addr) bool {
	o := g.own.Load()
	if o == nil || time.Since(o.at) > ownAddrsTTL {
		o = g.refreshOwn(o)
	}
	_, ok := o.set[a]
	return ok
}

// refreshOwn rereads the interface addresses unless another caller did since seen; when they
// cannot be read it keeps the previous list.
func (g *dialGuard) refreshOwn(seen *ownAddrs) *ownAddrs {
	g.mu.Lock()
	defer g.mu.Unlock()
	if cur := g.own.Load(); cur != seen {
		return cur
	}
	o := &ownAddrs{set: make(map[netip.Addr]struct{}), at: time.Now()}
	addrs, err := g.interfaceAddrs()
	if err != nil && seen != nil {
		o.set = seen.set
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok {
				o.set[ip.Unmap()] = struct{}{}
			}
		}
	}
	g.own.Store(o)
	return o
}

// refusalsDesc describes the dial guards' counters.
var refusalsDesc = prometheus.NewDesc("meshfed_waypoint_endpoint_dials_refused_total",
	"Dials the waypoint refused because of the endpoint's address, whatever the store said: "+
		"by direction (outbound to an endpoint, inbound for a tunnel) and reason (unspecified, loopback, "+
		"link-local, multicast, own-address, invalid).",
	[]string{"direction", "reason"}, nil)

// refusalCollector exports the counters of the outbound and (if any) the inbound dial guard.
type refusalCollector struct{ outbound, inbound *dialGuard }

func (c refusalCollector) Describe(ch chan<- *prometheus.Desc) { ch <- refusalsDesc }

func (c refusalCollector) Collect(ch chan<- prometheus.Metric) {
	for direction, g := range map[string]*dialGuard{"outbound": c.outbound, "inbound": c.inbound} {
		if g == nil {
			continue
		}
		for r := refuseInvalid; r < numRefusals; r++ {
			ch <- prometheus.MustNewConstMetric(refusalsDesc, prometheus.CounterValue, float64(g.refused[r].Load()), direction, r.String())
		}
	}
}
