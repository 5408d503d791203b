package waypoint

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshfed/meshfed/federation/priority"
)

// maxDraws bounds how often one attempt draws again to avoid an endpoint already tried.
const maxDraws = 8

// ErrNoEndpoint reports that a route had no endpoint to try.
var ErrNoEndpoint = errors.New("no endpoint available")

// serve carries one accepted connection to an endpoint of the route on port.
func (o *Outbound) serve(ctx context.Context, c net.Conn, port int32) {
	up, h, err := o.connect(withClientAddr(ctx, c.RemoteAddr()), port)
	r := o.table.View().Route(port)
	o.metrics.connection(r, h)
	if err != nil {
		o.log.Warn("failed to connect client", "client", c.RemoteAddr().String(), "port", port, "error", err)
		return
	}
	defer h.inflight.Add(-1)
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
func (o *Outbound) connect(ctx context.Context, port int32) (net.Conn, *host, error) {
	var tried []*host
	lastErr := ErrNoEndpoint
	for try := 0; try <= o.opts.Retries; try++ {
		r := o.table.View().Route(port)
		if r == nil {
			return nil, nil, fmt.Errorf("failed to route port %d: %w", port, ErrNoEndpoint)
		}
		h, ok := o.pick(r, tried)
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
func (o *Outbound) dial(ctx context.Context, r *Route, h *host) (net.Conn, error) {
	h.inflight.Add(1)
	err := o.guard.check(h.addr, r.via[h] == nil)
	var c net.Conn
	if err == nil {
		c, err = o.open(ctx, r, h) // direct TCP, or HBONE for an endpoint on another network
	}
	if err == nil {
		r.pool.success(h)
		return c, nil
	}
	h.inflight.Add(-1)
	if ctx.Err() != nil {
		return nil, fmt.Errorf("failed to dial endpoint %s: %w", h.addr, err)
	}
	if r.pool.failure(h, o.table.clock.Now()) {
		o.log.Warn("ejected endpoint after consecutive connect failures", "service", r.Service(), "port", r.Port, "endpoint", h.addr, "cluster", h.cluster)
		o.table.refresh()
	}
	return nil, fmt.Errorf("failed to dial endpoint %s: %w", h.addr, err)
}

// pick chooses an endpoint not tried yet: the route's plan for the first try, a plan without
// the tiers already tried for a retry (see pickFor).
func (o *Outbound) pick(r *Route, tried []*host) (*host, bool) { return o.pickFor(r, tried, r) }

// pickFor is pick with in-flight counts from in: connections for per-connection routes,
// requests for per-request routes. A retry follows Envoy's previous_priorities and
// previous_hosts retry predicates, and leaves the peer waypoints already tried: every tier a
// try already failed in counts as unhealthy, and so does every endpoint behind a peer waypoint
// a failed try tunneled through, so that a retry moves on at once instead of finding another
// dead endpoint of a zone, network or cluster that went down together (max-ejection-percent
// keeps most of them in the plan). When that leaves nothing, the tiers are allowed again, then
// the peers; the endpoints already tried are always avoided.
func (o *Outbound) pickFor(r *Route, tried []*host, in priority.InFlight) (*host, bool) {
	if len(tried) == 0 {
		return o.draw(r, r.Plan, nil, in)
	}
	triedTiers := make(map[int]bool, len(tried))
	triedVia := make(map[*peerSet]bool, len(tried))
	for i, h := range r.hosts {
		if slices.Contains(tried, h) {
			triedTiers[r.Tiers.Of[i]] = true
			if v := r.via[h]; v != nil {
				triedVia[v] = true
			}
		}
	}
	viaTried := func(i int) bool { v := r.via[r.hosts[i]]; return v != nil && triedVia[v] }
	levels := []func(i int) bool{
		func(i int) bool { return triedTiers[r.Tiers.Of[i]] || viaTried(i) },
		viaTried,
		func(int) bool { return false },
	}
	for n, avoid := range levels {
		unhealthy := func(i int) bool { return r.ejected[i] || slices.Contains(tried, r.hosts[i]) || avoid(i) }
		plan := priority.NewPlan(r.Endpoints, r.Tiers, unhealthy, r.Load)
		h, ok := o.draw(r, plan, tried, in)
		if !ok {
			continue
		}
		// A plan with no healthy endpoint left panics over all of them; only the last level
		// may hand out an endpoint it meant to avoid.
		if i := slices.Index(r.hosts, h); !unhealthy(i) {
			return h, true
		}
		if n == len(levels)-1 {
			return untriedOr(r, tried, h), true
		}
	}
	return nil, false
}

// untriedOr is the best-tier endpoint neither tried nor ejected, else h: the random draws of a
// panicking plan can miss the one endpoint left.
func untriedOr(r *Route, tried []*host, h *host) *host {
	for _, members := range r.Tiers.Members {
		for _, i := range members {
			if !r.ejected[i] && !slices.Contains(tried, r.hosts[i]) {
				return r.hosts[i]
			}
		}
	}
	return h
}

// draw picks from plan an endpoint not tried yet, drawing again at most maxDraws times; when
// every draw lands on a tried endpoint, the last one is returned.
func (o *Outbound) draw(r *Route, plan *priority.Plan, tried []*host, in priority.InFlight) (*host, bool) {
	var h *host
	for range maxDraws {
		i, ok := plan.Pick(o.src, o.picker, in)
		if !ok {
			return nil, false
		}
		h = r.hosts[i]
		if !slices.Contains(tried, h) {
			return h, true
		}
	}
	return h, true
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
// network and may equal one of this host's.
func (g *dialGuard) check(target string, direct bool) error {
	ap, err := netip.ParseAddrPort(target)
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
