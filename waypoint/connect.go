package waypoint

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"

	"github.com/meshfed/meshfed/federation/priority"
)

// maxDraws bounds how often one attempt draws again to avoid an endpoint already tried.
const maxDraws = 8

// ErrNoEndpoint reports that a route had no endpoint to try.
var ErrNoEndpoint = errors.New("no endpoint available")

// serve carries one accepted connection to an endpoint of the route on port.
func (o *Outbound) serve(ctx context.Context, c net.Conn, port int32) {
	up, h, err := o.connect(withClientAddr(ctx, c.RemoteAddr()), port)
	r := o.table.Snapshot().Route(port)
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
		r := o.table.Snapshot().Route(port)
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
// a connect failure like a refused TCP connect.
func (o *Outbound) dial(ctx context.Context, r *Route, h *host) (net.Conn, error) {
	h.inflight.Add(1)
	c, err := o.open(ctx, r, h) // direct TCP, or HBONE for an endpoint on another network
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
		plan := priority.NewPlan(r.Endpoints, r.Tiers, unhealthy, o.opts.Load)
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
