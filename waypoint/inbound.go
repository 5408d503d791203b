package waypoint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"

	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/hbone/identity"
	"github.com/meshfed/meshfed/waypoint/table"
)

// Reasons of the inbound server's refusals (sent in hbone.ReasonHeader).
const (
	// ReasonCallerNotAllowed: the caller's SPIFFE ID is not a waypoint of this namespace (or
	// not in the allow list).
	ReasonCallerNotAllowed = "caller-not-allowed"
	// ReasonNoCallerCluster: the caller's certificate names no cluster (identity.ClusterOf),
	// so the import check cannot be made. What the request's Baggage claims does not count.
	ReasonNoCallerCluster = "no-caller-cluster"
	// ReasonTargetNotAllowed: the target is not a ready endpoint of this cluster of a global
	// service the caller's cluster imports from this cluster.
	ReasonTargetNotAllowed = "target-not-allowed"
	// ReasonNotSynced: the endpoint table has not been synced with the store yet.
	ReasonNotSynced = "table-not-synced"
	// ReasonTargetRefused: the target's address is one no tunnel may reach whatever the store
	// says (loopback, link-local, unspecified, multicast or this host's own; see dialGuard).
	ReasonTargetRefused = "target-address-refused"
)

// Inbound terminates HBONE tunnels from the waypoints of other networks: an hbone.Server on
// one port (TCP for HTTP/2, UDP for HTTP/3) whose handler authorizes the caller and the target
// against the endpoint table before it dials anything.
type Inbound struct {
	table   *table.Table
	opts    Options
	log     *slog.Logger
	allowed map[string]bool // caller SPIFFE IDs; nil means the default policy
	peerID  identity.ID     // the default policy's one caller
	srv     *hbone.Server
	changed <-chan struct{} // the table's snapshot swaps
	guard   *dialGuard

	mu      sync.Mutex
	addr    string
	tunnels map[*grantedConn]struct{} // open tunnels' upstream connections
}

// NewInbound returns the inbound server of table; opts must be valid with HBONE enabled. It
// does no I/O until Run.
func NewInbound(tab *table.Table, opts Options) (*Inbound, error) {
	opts = opts.withDefaults()
	if !opts.HBONE.Enabled() {
		return nil, fmt.Errorf("failed to build HBONE inbound: no identity: %w", errMissingOption)
	}
	in := &Inbound{
		table: tab, opts: opts, peerID: opts.HBONE.peerID(opts.Namespace), changed: tab.Subscribe(),
		guard:   newDialGuard(opts.AllowLoopbackEndpoints),
		log:     opts.Logger.With("component", "waypoint-inbound", "namespace", opts.Namespace),
		tunnels: make(map[*grantedConn]struct{}),
	}
	if len(opts.HBONE.AllowCallers) > 0 {
		in.allowed = make(map[string]bool, len(opts.HBONE.AllowCallers))
		for _, id := range opts.HBONE.AllowCallers {
			in.allowed[id.String()] = true
		}
	}
	srv, err := hbone.NewServer(hbone.ServerOptions{
		Source: opts.HBONE.Identity, Handler: in, Limits: opts.HBONE.Limits,
		Logger: opts.Logger.With("component", "waypoint-hbone-server", "namespace", opts.Namespace),
	})
	if err != nil {
		return nil, fmt.Errorf("failed to build HBONE server: %w", err)
	}
	in.srv = srv
	return in, nil
}

// Run listens on HBONE.ListenAddress (TCP and UDP) and serves tunnels until ctx ends, then
// closes the server and every tunnel. It returns an error when it cannot listen or serve.
func (in *Inbound) Run(ctx context.Context) error {
	tcp, udp, err := hbone.Listen(in.opts.HBONE.ListenAddress)
	if err != nil {
		return fmt.Errorf("failed to listen for HBONE on %s: %w", in.opts.HBONE.ListenAddress, err)
	}
	in.mu.Lock()
	in.addr = tcp.Addr().String()
	in.mu.Unlock()
	in.log.Info("serving HBONE", "address", in.addr, "callers", in.policy())
	stop := context.AfterFunc(ctx, func() { _ = in.srv.Close() })
	defer stop()
	done := make(chan struct{})
	defer func() { <-done }()
	go func() {
		defer close(done)
		in.revokeLoop(ctx)
	}()
	if err := in.srv.Serve(tcp, udp); err != nil {
		return fmt.Errorf("failed to serve HBONE on %s: %w", in.addr, err)
	}
	return nil
}

// Addr is the address the server listens on, "" until Run has opened it.
func (in *Inbound) Addr() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.addr
}

// ActiveTunnels is the number of tunnels open through the server.
func (in *Inbound) ActiveTunnels() int { return in.srv.ActiveTunnels() }

// Connect implements hbone.Handler. It authorizes the caller's SPIFFE ID, then the target: an
// ip:port of a ready endpoint of this waypoint's cluster, of a global service whose store
// record lets the caller's cluster import it from this cluster. The caller's cluster is the one
// its certificate names (hbone.Request.CallerCluster), never what its Baggage header says: a
// waypoint can only reach what its own cluster may. Only then, and only if the dial guard lets
// the address through, does it dial the target, within the server's upstream timeout (ctx).
func (in *Inbound) Connect(ctx context.Context, req *hbone.Request) (net.Conn, error) {
	if !in.callerAllowed(req.Caller) {
		in.log.Warn("denied HBONE caller", "caller", req.Caller.String(), "remote", req.RemoteAddr, "target", req.Target.String())
		return nil, hbone.Deny(ReasonCallerNotAllowed)
	}
	if !in.table.Ready() {
		return nil, hbone.Unavailable(ReasonNotSynced, errors.New("endpoint table not synced with the store yet"))
	}
	cluster := req.CallerCluster
	if cluster == "" {
		in.log.Warn("denied HBONE caller whose certificate names no cluster", "caller", req.Caller.String(), "remote", req.RemoteAddr, "target", req.Target.String())
		return nil, hbone.Deny(ReasonNoCallerCluster)
	}
	if claimed := req.Locality().Cluster; claimed != "" && claimed != cluster {
		in.log.Warn("HBONE caller claims another cluster than its certificate's", "caller", req.Caller.String(), "callerCluster", cluster, "claimed", claimed, "remote", req.RemoteAddr)
	}
	if !in.table.View().Accepts(req.Target, cluster) {
		in.log.Debug("denied HBONE target", "caller", req.Caller.String(), "callerCluster", cluster, "target", req.Target.String())
		return nil, hbone.Deny(ReasonTargetNotAllowed)
	}
	if err := in.guard.check(req.Target.String(), true); err != nil {
		in.log.Warn("refused HBONE target the store lists as a local endpoint", "callerCluster", cluster, "target", req.Target.String(), "error", err)
		return nil, &hbone.Refusal{Status: http.StatusForbidden, Reason: ReasonTargetRefused, Err: err}
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", req.Target.String())
	if err != nil {
		return nil, fmt.Errorf("failed to dial local endpoint %s: %w", req.Target, err)
	}
	return in.track(c, cluster, req.Target), nil
}

// grantedConn is the upstream connection of an open tunnel, with what authorized it.
type grantedConn struct {
	net.Conn
	in      *Inbound
	cluster string
	target  netip.AddrPort
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
		c.in.mu.Lock()
		delete(c.in.tunnels, c)
		c.in.mu.Unlock()
	})
	return c.Conn.Close()
}

// track registers an open tunnel's upstream connection for revokeLoop.
func (in *Inbound) track(c net.Conn, cluster string, target netip.AddrPort) net.Conn {
	gc := &grantedConn{Conn: c, in: in, cluster: cluster, target: target}
	in.mu.Lock()
	in.tunnels[gc] = struct{}{}
	in.mu.Unlock()
	return gc
}

// revokeLoop re-checks the open tunnels after every snapshot swap until ctx ends, and closes
// those whose target is no longer granted to their caller's cluster: the endpoint left the
// store, or its service did, or the caller's cluster no longer imports it from here. A target
// that is only no longer ready keeps its tunnels, which drain as connections to a removed
// endpoint do.
func (in *Inbound) revokeLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-in.changed:
		}
		view := in.table.View()
		var revoked []*grantedConn
		in.mu.Lock()
		for gc := range in.tunnels {
			if !view.Grants(gc.target, gc.cluster) {
				revoked = append(revoked, gc)
			}
		}
		in.mu.Unlock()
		for _, gc := range revoked {
			in.log.Info("closing HBONE tunnel no longer allowed", "callerCluster", gc.cluster, "target", gc.target.String())
			_ = gc.Close()
		}
	}
}

// callerAllowed applies the allow list, or by default accepts exactly the waypoint identity
// of this namespace in the trust domain.
func (in *Inbound) callerAllowed(id identity.ID) bool {
	if id.IsZero() {
		return false
	}
	if in.allowed != nil {
		return in.allowed[id.String()]
	}
	return id == in.peerID
}

// policy describes the caller policy for logs.
func (in *Inbound) policy() string {
	if in.allowed != nil {
		return fmt.Sprintf("allow list of %d SPIFFE IDs", len(in.allowed))
	}
	return in.peerID.String()
}
