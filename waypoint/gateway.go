package waypoint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/hbone/identity"
	"github.com/meshfed/meshfed/waypoint/table"
	"github.com/meshfed/meshfed/waypoint/tunnel"
)

// GatewayServiceAccount is the service account a shared gateway runs as; its SPIFFE ID is
// spiffe://<trust-domain>/ns/<its namespace>/sa/meshfed-gateway.
const GatewayServiceAccount = wellknown.GatewayName

// DefaultRecordPollInterval is how often a gateway that follows its store record reads it.
const DefaultRecordPollInterval = 2 * time.Second

// GatewayOptions configure a shared gateway: one process that serves several namespaces of
// its cluster with one HBONE address (DESIGN §6).
type GatewayOptions struct {
	// Options are those of a waypoint, shared by every namespace served, except that Namespace
	// is the gateway's own namespace (where it runs, as GatewayServiceAccount) and that
	// HBONE.Identity must be the gateway's.
	Options
	// Namespaces are the namespaces the gateway serves, a fixed set: for each, a table
	// following its store prefix, its outbound listeners and its inbound policy. Empty with
	// FollowRecord.
	Namespaces []string
	// FollowRecord serves instead the namespaces the store's record of the gateway
	// (store.GatewayKey(Cluster, Namespace), which the hub writes) lists, starting and
	// stopping each as the record changes: the gateway that serves every namespace of its
	// cluster without a waypoint of its own.
	FollowRecord bool
	// RecordPollInterval is how often FollowRecord reads the record (its etcd user may read
	// that one key, not a range to watch); 0 means DefaultRecordPollInterval.
	RecordPollInterval time.Duration
}

// Validate checks the options of the gateway and of every namespace it serves.
func (o *GatewayOptions) Validate() error {
	if err := o.Options.Validate(); err != nil {
		return err
	}
	switch {
	case o.FollowRecord && len(o.Namespaces) > 0:
		return errors.New("failed to validate option gateway namespaces: a fixed set or the store's record, not both")
	case !o.FollowRecord && len(o.Namespaces) == 0:
		return fmt.Errorf("failed to validate option gateway namespaces: %w", errMissingOption)
	case o.RecordPollInterval < 0:
		return fmt.Errorf("failed to validate option record poll interval %s: negative", o.RecordPollInterval)
	}
	seen := make(map[string]bool, len(o.Namespaces))
	for _, ns := range o.Namespaces {
		if seen[ns] {
			return fmt.Errorf("failed to validate option gateway namespaces: %q twice", ns)
		}
		seen[ns] = true
		if err := o.validateServed(ns); err != nil {
			return err
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

// validateServed checks that the gateway can serve namespace ns.
func (o *GatewayOptions) validateServed(ns string) error {
	// A name that is not one namespace's store segment would watch another prefix.
	if k, err := store.ParseKey(store.WaypointsKey(ns, o.Cluster).String()); err != nil || k.Namespace != ns || strings.Contains(ns, ".") {
		return fmt.Errorf("failed to validate option gateway namespaces: %q is not a namespace name", ns)
	}
	served := o.Options
	served.Namespace = ns
	if err := served.Validate(); err != nil {
		return fmt.Errorf("failed to validate gateway namespace %q: %w", ns, err)
	}
	return nil
}

// StoreConnector opens a store client that reads scope (ClientConfig.Scope): a namespace's
// prefix, or the key of the gateway's record. It retries while the store does not answer or
// refuses the gateway's user (store.ConnectAwaitingAccess) until ctx ends. The gateway closes
// the clients it opened.
type StoreConnector func(ctx context.Context, scope string) (*store.Client, error)

// Gateway is a shared gateway: per namespace served an endpoint table following that
// namespace's store prefix, its outbound listeners and its inbound policy; one HBONE dialer
// and one inbound HBONE server, whose handler dispatches each tunnel to the namespace whose
// table holds its target. The namespaces served are a fixed set, or those of the gateway's
// store record, followed as it changes (gateway_serve.go, gateway_record.go).
type Gateway struct {
	opts     Options // the gateway's own, with defaults
	log      *slog.Logger
	follow   bool
	poll     time.Duration
	reg      *prometheus.Registry // the process's collectors; each namespace has its own
	inbound  *Inbound
	dispatch *gatewayDispatch
	draining atomic.Bool

	mu     sync.Mutex
	served map[string]*servedNamespace
	// record is why the record does not say what to serve ("" once it has been read).
	record string
	// wasReady: every namespace served once was synced; later additions do not unready it.
	wasReady bool
	// tunnels is the one HBONE dialer, set by Run; start runs a namespace, nil but in Run.
	tunnels *tunnel.Dialer
	start   func(*servedNamespace)
}

// NewGateway validates opts and builds a shared gateway; it does no I/O.
func NewGateway(opts GatewayOptions) (*Gateway, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	g := &Gateway{
		opts: opts.withDefaults(), follow: opts.FollowRecord, poll: opts.RecordPollInterval,
		served: make(map[string]*servedNamespace, len(opts.Namespaces)), reg: newRegistry(),
	}
	if g.poll == 0 {
		g.poll = DefaultRecordPollInterval
	}
	g.log = g.opts.Logger.With("component", "gateway", "namespace", g.opts.Namespace)
	g.dispatch = &gatewayDispatch{log: g.log}
	if g.follow {
		g.record = "gateway record " + store.GatewayKey(g.opts.Cluster, g.opts.Namespace).String() + " not read from the store yet"
	}
	if g.opts.HBONE.Enabled() && g.opts.HBONE.ListenAddress != "" {
		in, err := newInbound(g.opts, nil, g.dispatch, nil)
		if err != nil {
			return nil, err
		}
		g.inbound = in
	}
	for _, ns := range opts.Namespaces {
		g.add(ns)
	}
	return g, nil
}

// Namespaces are the namespaces the gateway serves now, sorted.
func (g *Gateway) Namespaces() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Sorted(maps.Keys(g.served))
}

// Table is the endpoint table of namespace ns; nil when ns is not served.
func (g *Gateway) Table(ns string) *table.Table {
	if s := g.servedNamespace(ns); s != nil {
		return s.table
	}
	return nil
}

// Outbound is the outbound side of namespace ns; nil when ns is not served.
func (g *Gateway) Outbound(ns string) *Outbound {
	if s := g.servedNamespace(ns); s != nil {
		return s.outbound
	}
	return nil
}

func (g *Gateway) servedNamespace(ns string) *servedNamespace {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.served[ns]
}

// Inbound is the gateway's one HBONE server; nil when HBONE or its listen address is not set.
func (g *Gateway) Inbound() *Inbound { return g.inbound }

// Draining reports whether the gateway has begun to drain (Run's context ended).
func (g *Gateway) Draining() bool { return g.draining.Load() }

// Admin is the handler of the gateway's admin endpoints: /healthz; /readyz (see readiness);
// /debug/endpoints?namespace=<ns>, the table of a namespace served now (see adminHandler);
// /metrics, the metrics of every namespace served now labelled namespace="<ns>", with the
// process's.
func (g *Gateway) Admin() http.Handler {
	tables := func() map[string]*table.Table {
		g.mu.Lock()
		defer g.mu.Unlock()
		out := make(map[string]*table.Table, len(g.served))
		for ns, s := range g.served {
			out[ns] = s.table
		}
		return out
	}
	gather := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		g.mu.Lock()
		all := prometheus.Gatherers{g.reg}
		for _, s := range g.served {
			all = append(all, s.reg)
		}
		g.mu.Unlock()
		return all.Gather()
	})
	return withMetrics(adminHandler(tables, g.readiness), gather, g.reg)
}

// readiness is "" when the gateway is ready, else why not: "draining" from the start of a
// drain; following the record, why it has not been read; then the first namespace, by name,
// whose table has not synced or whose listeners are not open. Once ready it stays so until
// it drains: a namespace added later is served as soon as its table syncs, but failing
// readiness meanwhile would take the gateway's pods out of every namespace's endpoints.
func (g *Gateway) readiness() string {
	if g.draining.Load() {
		return "draining"
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.wasReady:
		return ""
	case g.record != "":
		return g.record
	}
	for _, ns := range slices.Sorted(maps.Keys(g.served)) {
		if why := g.served[ns].outbound.readiness(); why != "" {
			return "namespace " + ns + ": " + why
		}
	}
	g.wasReady = true
	g.log.Info("gateway ready", "serves", slices.Sorted(maps.Keys(g.served)))
	return ""
}

// Run serves each namespace (the fixed set, or those of the gateway's store record, read
// through a client connect opens for the record's key) through a store client connect opens
// for that namespace's prefix, with its outbound listeners, and the inbound server, until ctx
// ends or one of them fails (which stops the others at once). A namespace the record no
// longer lists is drained on its own (drainRemoved). When ctx ends the gateway stops
// following the record and drains as a waypoint does (Options.Drain, Waypoint.Run).
func (g *Gateway) Run(ctx context.Context, connect StoreConnector) error {
	if g.opts.HBONE.Enabled() {
		// One dialer for every namespace: its pool holds one connection per peer address and
		// identity, whichever namespaces' tunnels it carries.
		t, err := newTunnels(g.opts)
		if err != nil {
			return err
		}
		defer t.Close()
		g.tunnels = t
	}
	serve, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	var (
		wg       sync.WaitGroup
		errMu    sync.Mutex
		errs     []error
		failOnce sync.Once
	)
	failed := make(chan struct{})
	run := func(f func(context.Context) error) {
		wg.Go(func() {
			if err := f(serve); err != nil {
				errMu.Lock()
				errs = append(errs, err)
				errMu.Unlock()
				failOnce.Do(func() { close(failed) })
			}
		})
	}
	g.mu.Lock()
	g.start = func(s *servedNamespace) {
		s.outbound.tunnels = g.tunnels
		run(func(ctx context.Context) error { return g.serveNamespace(ctx, s, connect) })
	}
	for _, s := range g.served {
		g.start(s)
	}
	g.mu.Unlock()
	if g.inbound != nil {
		run(g.inbound.Run)
	}
	follow, stopFollowing := context.WithCancel(serve)
	defer context.AfterFunc(ctx, stopFollowing)()
	if g.follow {
		run(func(context.Context) error { return g.followRecord(follow, connect) })
		g.log.Info("gateway serving the namespaces its store record lists")
	} else {
		g.log.Info("gateway serving", "namespaces", g.Namespaces())
	}
	select {
	case <-ctx.Done():
		stopFollowing()
		g.drain(failed)
	case <-failed:
	}
	stop()
	wg.Wait()
	if err := errors.Join(errs...); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// drain stops adding and removing namespaces, then drains every namespace served and the
// inbound server together, as a waypoint does (drainServing).
func (g *Gateway) drain(failed <-chan struct{}) {
	g.mu.Lock()
	g.draining.Store(true)
	g.start = nil
	outbounds := make([]*Outbound, 0, len(g.served))
	for _, s := range g.served {
		outbounds = append(outbounds, s.outbound)
	}
	g.mu.Unlock()
	drainServing(g.log, g.opts.Drain, &g.draining, failed, outbounds, g.inbound)
}
