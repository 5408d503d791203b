package waypoint

import (
	"github.com/meshfed/meshfed/internal/quietconn"

	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"

	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/hbone/identity"
	"github.com/meshfed/meshfed/waypoint/balance"
	"github.com/meshfed/meshfed/waypoint/table"
)

// namespaceInbound is the inbound policy of one namespace, and the tunnels it let in: which
// callers may tunnel to which of the namespace's endpoints in this cluster, by the namespace's
// endpoint table. It is the whole handler of a waypoint's HBONE server, and one of those a
// shared gateway's server dispatches to.
type namespaceInbound struct {
	namespace string
	table     *table.Table
	log       *slog.Logger
	allowed   map[string]bool // caller SPIFFE IDs; nil means the default policy
	peerID    identity.ID     // the namespace's waypoints, which the default policy admits
	changed   <-chan struct{} // the table's snapshot swaps
	guard     *dialGuard
	picker    *table.Picker // for tunnels that name a service

	mu      sync.Mutex
	tunnels map[*grantedConn]struct{} // open tunnels' upstream connections
	idle    chan struct{}             // closed when the last tunnel closes, while drain waits
}

// newNamespaceInbound returns the policy of opts.Namespace over tab; opts has its defaults and
// HBONE enabled. guard is the dial guard of the server it serves behind.
func newNamespaceInbound(tab *table.Table, opts Options, guard *dialGuard) *namespaceInbound {
	p := &namespaceInbound{
		namespace: opts.Namespace, table: tab, peerID: opts.HBONE.peerID(opts.Namespace), changed: tab.Subscribe(), guard: guard,
		picker:  table.NewPicker(opts.Seed ^ 0x9e3779b97f4a7c15),
		log:     opts.Logger.With("component", "waypoint-inbound", "namespace", opts.Namespace),
		tunnels: make(map[*grantedConn]struct{}),
	}
	if len(opts.HBONE.AllowCallers) > 0 {
		p.allowed = make(map[string]bool, len(opts.HBONE.AllowCallers))
		for _, id := range opts.HBONE.AllowCallers {
			p.allowed[id.String()] = true
		}
	}
	return p
}

// Connect implements hbone.Handler: authorize, then open.
func (p *namespaceInbound) Connect(ctx context.Context, req *hbone.Request) (net.Conn, error) {
	if err := p.authorize(req); err != nil {
		return nil, err
	}
	return p.open(ctx, req)
}

// authorize checks the caller's SPIFFE ID, then the target: an ip:port of a ready endpoint of
// this cluster, of a global service of the namespace whose store record lets the caller's
// cluster import it from this cluster. The caller's cluster is the one its certificate names
// (hbone.Request.CallerCluster), never what its Baggage header says: a waypoint can only reach
// what its own cluster may. It dials nothing.
func (p *namespaceInbound) authorize(req *hbone.Request) error {
	if !p.table.Ready() {
		return hbone.Unavailable(ReasonNotSynced, errors.New("endpoint table not synced with the store yet"))
	}
	cluster := req.CallerCluster
	view := p.table.View()
	if !p.callerAllowed(view, req.Caller, cluster) {
		p.log.Warn("denied HBONE caller", "caller", req.Caller.String(), "callerCluster", cluster, "remote", req.RemoteAddr, "target", req.Authority())
		return hbone.Deny(ReasonCallerNotAllowed)
	}
	if cluster == "" {
		p.log.Warn("denied HBONE caller whose certificate names no cluster", "caller", req.Caller.String(), "remote", req.RemoteAddr, "target", req.Authority())
		return hbone.Deny(ReasonNoCallerCluster)
	}
	if claimed := req.Locality().Cluster; claimed != "" && claimed != cluster {
		p.log.Warn("HBONE caller claims another cluster than its certificate's", "caller", req.Caller.String(), "callerCluster", cluster, "claimed", claimed, "remote", req.RemoteAddr)
	}
	if req.Service != "" {
		r, ok := view.LocalService(req.Service, req.Target.Port(), cluster)
		if !ok {
			p.log.Debug("denied HBONE service target", "caller", req.Caller.String(), "callerCluster", cluster, "service", req.Service, "port", req.Target.Port())
			return hbone.Deny(ReasonTargetNotAllowed)
		}
		if len(r.Endpoints) == 0 {
			return hbone.Unavailable(ReasonNoLocalEndpoint, fmt.Errorf("no ready endpoint of %s port %d in this cluster", req.Service, req.Target.Port()))
		}
		return nil
	}
	if !view.Accepts(req.Target, cluster) {
		p.log.Debug("denied HBONE target", "caller", req.Caller.String(), "callerCluster", cluster, "target", req.Target.String())
		return hbone.Deny(ReasonTargetNotAllowed)
	}
	return nil
}

// maxServiceTries bounds how many of its cluster's endpoints one tunnel naming a service
// tries.
const maxServiceTries = 3

// openService connects a tunnel that names a service (authorize let it through) to one of
// this cluster's endpoints of that service port: picked as an outbound connection is, over
// the tiers of this waypoint's locality, with an outlier state of its own; a failed connect
// is tried again on another endpoint, at most maxServiceTries in all, within ctx.
func (p *namespaceInbound) openService(ctx context.Context, req *hbone.Request) (net.Conn, error) {
	var (
		tried   []*balance.Host
		lastErr error
	)
	for range maxServiceTries {
		r, ok := p.table.View().LocalService(req.Service, req.Target.Port(), req.CallerCluster)
		if !ok {
			return nil, hbone.Deny(ReasonTargetNotAllowed)
		}
		h, ok := p.picker.Pick(r, tried)
		if !ok || slices.Contains(tried, h) {
			break
		}
		tried = append(tried, h)
		target, err := netip.ParseAddrPort(h.Addr())
		if err == nil {
			err = p.guard.check(h.Addr(), true)
		}
		if err != nil {
			p.log.Warn("refused local endpoint of a service target", "service", req.Service, "endpoint", h.Addr(), "error", err)
			lastErr = err
			continue
		}
		h.InFlight.Add(1)
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", h.Addr())
		if err != nil {
			h.InFlight.Add(-1)
			lastErr = err
			if ctx.Err() != nil {
				break
			}
			if r.Pool().Failure(h, p.table.Clock().Now()) {
				p.log.Warn("ejected local endpoint after consecutive connect failures", "service", req.Service, "port", req.Target.Port(), "endpoint", h.Addr())
				p.table.RefreshRoute(r)
			}
			continue
		}
		r.Pool().Success(h)
		return p.track(&grantedConn{Conn: quietconn.New(c), p: p, caller: req.Caller, cluster: req.CallerCluster, target: target, host: h}), nil
	}
	if lastErr == nil {
		return nil, hbone.Unavailable(ReasonNoLocalEndpoint, fmt.Errorf("no ready endpoint of %s port %d in this cluster", req.Service, req.Target.Port()))
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("failed to connect %s port %d after %d tries: %w", req.Service, req.Target.Port(), len(tried), lastErr)
	}
	return nil, hbone.Unavailable(ReasonNoLocalEndpoint, fmt.Errorf("failed to connect %s port %d after %d tries: %w", req.Service, req.Target.Port(), len(tried), lastErr))
}

// open dials the target authorize let through, if the dial guard lets its address through,
// within the server's upstream timeout (ctx), and tracks the tunnel for revokeLoop.
func (p *namespaceInbound) open(ctx context.Context, req *hbone.Request) (net.Conn, error) {
	if req.Service != "" {
		return p.openService(ctx, req)
	}
	if err := p.guard.check(req.Target.String(), true); err != nil {
		p.log.Warn("refused HBONE target the store lists as a local endpoint", "callerCluster", req.CallerCluster, "target", req.Target.String(), "error", err)
		return nil, &hbone.Refusal{Status: http.StatusForbidden, Reason: ReasonTargetRefused, Err: err}
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", req.Target.String())
	if err != nil {
		return nil, fmt.Errorf("failed to dial local endpoint %s: %w", req.Target, err)
	}
	// The tunnel's bytes are copied with Read and Write: quiet ones wake no sysmon thread.
	return p.track(&grantedConn{Conn: quietconn.New(c), p: p, caller: req.Caller, cluster: req.CallerCluster, target: req.Target}), nil
}

// track adds gc to the open tunnels that revokeLoop re-checks and drain waits for.
func (p *namespaceInbound) track(gc *grantedConn) *grantedConn {
	p.mu.Lock()
	p.tunnels[gc] = struct{}{}
	p.mu.Unlock()
	return gc
}

// grantedConn is the upstream connection of an open tunnel, with what authorized it.
type grantedConn struct {
	net.Conn
	p       *namespaceInbound
	caller  identity.ID
	cluster string
	target  netip.AddrPort // the endpoint connected to
	host    *balance.Host  // for a tunnel that named a service: the endpoint's, in flight until Close
	once    sync.Once
}

// CloseWrite half-closes the upstream connection, which the dialer made a TCP connection.
func (c *grantedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Close()
}

func (c *grantedConn) Close() error {
	c.once.Do(func() {
		if c.host != nil {
			c.host.InFlight.Add(-1)
		}
		c.p.mu.Lock()
		delete(c.p.tunnels, c)
		if len(c.p.tunnels) == 0 && c.p.idle != nil {
			close(c.p.idle)
			c.p.idle = nil
		}
		c.p.mu.Unlock()
	})
	return c.Conn.Close()
}

// drain waits until every tunnel the policy let in has closed, or ctx ends (a shared gateway's
// namespace no longer served, which the dispatch no longer sends tunnels to).
func (p *namespaceInbound) drain(ctx context.Context) error {
	p.mu.Lock()
	if len(p.tunnels) == 0 {
		p.mu.Unlock()
		return nil
	}
	if p.idle == nil {
		p.idle = make(chan struct{})
	}
	idle := p.idle
	p.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		p.mu.Lock()
		n := len(p.tunnels)
		p.mu.Unlock()
		return fmt.Errorf("failed to drain %d inbound tunnels of namespace %s: %w", n, p.namespace, ctx.Err())
	}
}

// closeTunnels closes every tunnel still open.
func (p *namespaceInbound) closeTunnels() {
	p.mu.Lock()
	open := make([]*grantedConn, 0, len(p.tunnels))
	for gc := range p.tunnels {
		open = append(open, gc)
	}
	p.mu.Unlock()
	for _, gc := range open {
		_ = gc.Close()
	}
}

// revokeLoop re-checks the open tunnels after every snapshot swap until ctx ends, and closes
// those no longer allowed: the caller is a shared gateway the namespace's records no longer
// name for its cluster, or the target is no longer granted to the caller's cluster (the
// endpoint left the store, or its service did, or the caller's cluster no longer imports it
// from here). A target that is only no longer ready keeps its tunnels, which drain as
// connections to a removed endpoint do.
func (p *namespaceInbound) revokeLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.changed:
		}
		view := p.table.View()
		var revoked []*grantedConn
		p.mu.Lock()
		for gc := range p.tunnels {
			if !p.callerAllowed(view, gc.caller, gc.cluster) || !view.Grants(gc.target, gc.cluster) {
				revoked = append(revoked, gc)
			}
		}
		p.mu.Unlock()
		for _, gc := range revoked {
			p.log.Info("closing HBONE tunnel no longer allowed", "caller", gc.caller.String(), "callerCluster", gc.cluster, "target", gc.target.String())
			_ = gc.Close()
		}
	}
}

// callerAllowed applies the allow list or, by default, admits the waypoints of this namespace
// in the trust domain and the shared gateway that view's waypoints record of the caller's
// cluster names: the hub, the store's only writer, published that gateway for this namespace
// there.
func (p *namespaceInbound) callerAllowed(view *table.View, id identity.ID, cluster string) bool {
	if id.IsZero() {
		return false
	}
	if p.allowed != nil {
		return p.allowed[id.String()]
	}
	return id == p.peerID || view.Publishes(cluster, id.String())
}

// policy describes the caller policy for logs.
func (p *namespaceInbound) policy() string {
	if p.allowed != nil {
		return fmt.Sprintf("allow list of %d SPIFFE IDs", len(p.allowed))
	}
	return p.peerID.String() + " and the shared gateways the namespace's waypoints records name"
}
