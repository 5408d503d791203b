package waypoint

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/waypoint/table"
)

// Reasons of the inbound server's refusals (sent in hbone.ReasonHeader).
const (
	// ReasonCallerNotAllowed: the caller's SPIFFE ID is not a waypoint of this namespace, nor
	// the shared gateway the namespace's waypoints record of the caller's cluster names (or
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
	// ReasonTargetNotServed (shared gateway only): the target is no endpoint, in the store, of
	// any namespace the gateway serves.
	ReasonTargetNotServed = "target-not-served"
	// ReasonNoLocalEndpoint: the tunnel names a service (aggregated remote endpoints) of which
	// this cluster has no ready endpoint left to connect to, or every one tried failed.
	ReasonNoLocalEndpoint = "no-local-endpoint"
)

// Inbound terminates HBONE tunnels from the waypoints of other networks: an hbone.Server on
// one port (TCP for HTTP/2, UDP for HTTP/3) whose handler authorizes the caller and the target
// against an endpoint table before it dials anything. A waypoint's handler is its namespace's
// policy (namespaceInbound); a shared gateway's dispatches each tunnel to the policy of the
// namespace whose table holds the target (gatewayDispatch).
type Inbound struct {
	opts       Options
	log        *slog.Logger
	handler    hbone.Handler
	namespaces []*namespaceInbound // whose open tunnels Run re-checks
	srv        *hbone.Server
	guard      *dialGuard

	mu   sync.Mutex
	addr string
}

// NewInbound returns the inbound server of table; opts must be valid with HBONE enabled. It
// does no I/O until Run.
func NewInbound(tab *table.Table, opts Options) (*Inbound, error) {
	opts = opts.withDefaults()
	if !opts.HBONE.Enabled() {
		return nil, fmt.Errorf("failed to build HBONE inbound: no identity: %w", errMissingOption)
	}
	guard := newDialGuard(opts.AllowLoopbackEndpoints)
	ns := newNamespaceInbound(tab, opts, guard)
	return newInbound(opts, guard, ns, []*namespaceInbound{ns})
}

// newInbound builds the server of handler, which authorizes into namespaces; opts (with its
// defaults) name the server's identity, address and limits.
func newInbound(opts Options, guard *dialGuard, handler hbone.Handler, namespaces []*namespaceInbound) (*Inbound, error) {
	in := &Inbound{
		opts: opts, handler: handler, namespaces: namespaces, guard: guard,
		log: opts.Logger.With("component", "waypoint-inbound", "namespace", opts.Namespace),
	}
	srv, err := hbone.NewServer(hbone.ServerOptions{
		Source: opts.HBONE.Identity, Handler: handler, Limits: opts.HBONE.Limits, ServiceTargets: true,
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
	for _, ns := range in.namespaces {
		in.log.Info("serving HBONE", "address", in.addr, "for", ns.namespace, "callers", ns.policy())
	}
	stop := context.AfterFunc(ctx, func() { _ = in.srv.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, ns := range in.namespaces {
		wg.Go(func() { ns.revokeLoop(ctx) })
	}
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

// Connect implements hbone.Handler with the server's handler: for a waypoint, its namespace's
// policy (namespaceInbound.Connect); for a shared gateway, the dispatch to the namespace whose
// table holds the target.
func (in *Inbound) Connect(ctx context.Context, req *hbone.Request) (net.Conn, error) {
	return in.handler.Connect(ctx, req)
}
