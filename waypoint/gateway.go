package waypoint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/hbone/identity"
	"github.com/meshfed/meshfed/waypoint/table"
	"github.com/meshfed/meshfed/waypoint/tunnel"
)

// GatewayServiceAccount is the service account a shared gateway runs as; its SPIFFE ID is
// spiffe://<trust-domain>/ns/<its namespace>/sa/meshfed-gateway.
const GatewayServiceAccount = wellknown.GatewayName

// GatewayOptions configure a shared gateway: one process that serves several namespaces of
// its cluster with one HBONE address (DESIGN §6).
type GatewayOptions struct {
	// Options are those of a waypoint, shared by every namespace served, except that Namespace
	// is the gateway's own namespace (where it runs, as GatewayServiceAccount) and that
	// HBONE.Identity must be the gateway's.
	Options
	// Namespaces are the namespaces the gateway serves: for each, a table following its store
	// prefix, its outbound listeners and its inbound policy.
	Namespaces []string
}

// Validate checks the options of the gateway and of every namespace it serves.
func (o *GatewayOptions) Validate() error {
	if err := o.Options.Validate(); err != nil {
		return err
	}
	if len(o.Namespaces) == 0 {
		return fmt.Errorf("failed to validate option gateway namespaces: %w", errMissingOption)
	}
	seen := make(map[string]bool, len(o.Namespaces))
	for _, ns := range o.Namespaces {
		if seen[ns] {
			return fmt.Errorf("failed to validate option gateway namespaces: %q twice", ns)
		}
		seen[ns] = true
		// A name that is not one namespace's store segment would watch another prefix.
		if k, err := store.ParseKey(store.WaypointsKey(ns, o.Cluster).String()); err != nil || k.Namespace != ns || strings.Contains(ns, ".") {
			return fmt.Errorf("failed to validate option gateway namespaces: %q is not a namespace name", ns)
		}
		served := o.Options
		served.Namespace = ns
		if err := served.Validate(); err != nil {
			return fmt.Errorf("failed to validate gateway namespace %q: %w", ns, err)
		}
	}
	if !o.HBONE.Enabled() {
		return nil
	}
	// Peers expect the gateway's ID of its server, and callers accept its tunnels by it.
	want, err := identity.WorkloadID(o.HBONE.trustDomain(), o.Namespace, GatewayServiceAccount)
	if err != nil {
		return fmt.Errorf("failed to validate option namespace %q: %w", o.Namespace, err)
	}
	if got := o.HBONE.Identity.Material().ID; got != want {
		return fmt.Errorf("failed to validate option hbone identity: the certificate's identity is %s, want the gateway's %s", got, want)
	}
	return nil
}

// Gateway is a shared gateway: per namespace served an endpoint table following that
// namespace's store prefix, its outbound listeners and its inbound policy; one HBONE dialer
// and one inbound HBONE server, whose handler dispatches each tunnel to the namespace whose
// table holds its target.
type Gateway struct {
	opts       Options // the gateway's own, with defaults
	log        *slog.Logger
	namespaces []string // sorted
	served     map[string]*servedNamespace
	inbound    *Inbound
	reg        *prometheus.Registry
	draining   atomic.Bool
}

// servedNamespace is what a gateway runs for one namespace.
type servedNamespace struct {
	table    *table.Table
	outbound *Outbound
}

// NewGateway validates opts and builds a shared gateway; it does no I/O.
func NewGateway(opts GatewayOptions) (*Gateway, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	g := &Gateway{
		opts: opts.withDefaults(), namespaces: slices.Sorted(slices.Values(opts.Namespaces)),
		served: make(map[string]*servedNamespace, len(opts.Namespaces)), reg: newRegistry(),
	}
	g.log = g.opts.Logger.With("component", "gateway", "namespace", g.opts.Namespace)
	inbound := g.opts.HBONE.Enabled() && g.opts.HBONE.ListenAddress != ""
	var policies []*namespaceInbound
	for _, ns := range g.namespaces {
		nsOpts := g.opts
		nsOpts.Namespace = ns
		reg := prometheus.WrapRegistererWith(prometheus.Labels{"namespace": ns}, g.reg)
		t := NewTable(nsOpts)
		s := &servedNamespace{table: t, outbound: newOutbound(t, nsOpts, reg)}
		refusals := refusalCollector{outbound: s.outbound.guard}
		if inbound {
			p := newNamespaceInbound(t, nsOpts, newDialGuard(nsOpts.AllowLoopbackEndpoints))
			policies, refusals.inbound = append(policies, p), p.guard
		}
		reg.MustRegister(refusals)
		g.served[ns] = s
	}
	if inbound {
		in, err := newInbound(g.opts, nil, &gatewayDispatch{namespaces: policies, log: g.log}, policies)
		if err != nil {
			return nil, err
		}
		g.inbound = in
	}
	return g, nil
}

// Namespaces are the namespaces the gateway serves, sorted.
func (g *Gateway) Namespaces() []string { return slices.Clone(g.namespaces) }

// Table is the endpoint table of namespace ns; nil when ns is not served.
func (g *Gateway) Table(ns string) *table.Table {
	if s := g.served[ns]; s != nil {
		return s.table
	}
	return nil
}

// Outbound is the outbound side of namespace ns; nil when ns is not served.
func (g *Gateway) Outbound(ns string) *Outbound {
	if s := g.served[ns]; s != nil {
		return s.outbound
	}
	return nil
}

// Inbound is the gateway's one HBONE server; nil when HBONE or its listen address is not set.
func (g *Gateway) Inbound() *Inbound { return g.inbound }

// Draining reports whether the gateway has begun to drain (Run's context ended).
func (g *Gateway) Draining() bool { return g.draining.Load() }

// Admin is the handler of the gateway's admin endpoints: /healthz; /readyz, 200 only once
// every namespace's table has its first snapshot from the store and the listeners of that
// snapshot have been opened, 503 with the first namespace that is not (or "draining") else;
// /debug/endpoints?namespace=<ns>, that namespace's table (see adminHandler); /metrics, every
// namespace's metrics labelled namespace="<ns>", with the process's.
func (g *Gateway) Admin() http.Handler {
	tables := make(map[string]*table.Table, len(g.served))
	for ns, s := range g.served {
		tables[ns] = s.table
	}
	return withMetrics(adminHandler(tables, g.readiness), g.reg)
}

// readiness is "" when the gateway is ready, else why not.
func (g *Gateway) readiness() string {
	if g.draining.Load() {
		return "draining"
	}
	for _, ns := range g.namespaces {
		if why := g.served[ns].outbound.readiness(); why != "" {
			return "namespace " + ns + ": " + why
		}
	}
	return ""
}

// Run follows the store for each namespace through its client in clients (one per namespace
// served: each reads only its namespace's prefix) and serves every namespace's outbound
// listeners and the inbound server until ctx ends, or until one of them fails (which stops the
// others at once). When ctx ends it drains as a waypoint does (Options.Drain, Waypoint.Run).
func (g *Gateway) Run(ctx context.Context, clients map[string]*store.Client) error {
	for _, ns := range g.namespaces {
		if clients[ns] == nil {
			return fmt.Errorf("failed to run gateway: no store client for namespace %s", ns)
		}
	}
	if g.opts.HBONE.Enabled() {
		// One dialer for every namespace: its pool holds one connection per peer address and
		// identity, whichever namespaces' tunnels it carries.
		t, err := newTunnels(g.opts)
		if err != nil {
			return err
		}
		defer t.Close()
		g.shareTunnels(t)
	}
	var runs []func(context.Context) error
	outbounds := make([]*Outbound, 0, len(g.namespaces))
	for _, ns := range g.namespaces {
		s, c := g.served[ns], clients[ns]
		runs = append(runs, func(ctx context.Context) error { return s.table.Run(ctx, c) }, s.outbound.Run)
		outbounds = append(outbounds, s.outbound)
	}
	if g.inbound != nil {
		runs = append(runs, g.inbound.Run)
	}
	g.log.Info("gateway serving", "namespaces", g.namespaces)
	err := serveAll(ctx, runs, func(failed <-chan struct{}) {
		drainServing(g.log, g.opts.Drain, &g.draining, failed, outbounds, g.inbound)
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// shareTunnels gives every namespace's outbound side the dialer t, before they run.
func (g *Gateway) shareTunnels(t *tunnel.Dialer) {
	for _, s := range g.served {
		s.outbound.tunnels = t
	}
}
