package waypoint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/waypoint/table"
)

// servedNamespace is what a gateway runs for one namespace: from its start (add) until it is
// removed from the set served and has drained, or until the gateway stops.
type servedNamespace struct {
	namespace string
	log       *slog.Logger
	table     *table.Table
	outbound  *Outbound
	policy    *namespaceInbound    // nil without an inbound server
	reg       *prometheus.Registry // its metrics, labelled with the namespace
	// removed ends when the namespace is no longer served (remove).
	removed context.Context
	remove  context.CancelFunc
}

// add builds what the gateway runs for ns, serves it from now on (in dispatch, metrics and
// readiness) and starts it when Run is running; g.mu is held or the gateway not shared yet.
func (g *Gateway) add(ns string) {
	nsOpts := g.opts
	nsOpts.Namespace = ns
	s := &servedNamespace{
		namespace: ns, table: NewTable(nsOpts), reg: prometheus.NewRegistry(),
		log: g.log.With("servedNamespace", ns),
	}
	s.removed, s.remove = context.WithCancel(context.Background())
	reg := prometheus.WrapRegistererWith(prometheus.Labels{"namespace": ns}, s.reg)
	s.outbound = newOutbound(s.table, nsOpts, reg)
	refusals := refusalCollector{outbound: s.outbound.guard}
	if g.inbound != nil {
		s.policy = newNamespaceInbound(s.table, nsOpts, newDialGuard(nsOpts.AllowLoopbackEndpoints))
		refusals.inbound = s.policy.guard
		g.dispatch.add(s.policy)
	}
	reg.MustRegister(refusals)
	g.served[ns] = s
	if g.start != nil {
		g.start(s)
	}
}

// setServed makes the namespaces served those of namespaces: it removes the others, which
// drain on their own, and adds and starts the new ones. why is what keeps the record from
// saying what to serve ("" when it does), for readiness. Once the gateway drains it changes
// nothing.
func (g *Gateway) setServed(namespaces []string, why string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.start == nil {
		return
	}
	g.record = why
	want := make(map[string]bool, len(namespaces))
	for _, ns := range namespaces {
		want[ns] = true
	}
	for _, ns := range slices.Sorted(maps.Keys(g.served)) {
		if !want[ns] {
			s := g.served[ns]
			delete(g.served, ns)
			s.remove()
			g.log.Info("no longer serving namespace", "servedNamespace", ns)
		}
	}
	for _, ns := range namespaces {
		if g.served[ns] == nil {
			g.add(ns)
			g.log.Info("serving namespace", "servedNamespace", ns)
		}
	}
}

// serveNamespace connects to the store for s's prefix and runs its table, its outbound side
// and the re-check of its inbound tunnels until ctx ends (after the gateway's drain, which
// covers s) or s is removed (then it drains s alone, drainRemoved), or one of them fails. A
// namespace removed before its client connected stops at once. The client is closed when it
// returns.
func (g *Gateway) serveNamespace(ctx context.Context, s *servedNamespace, connect StoreConnector) error {
	defer g.dispatch.remove(s.policy)
	trigger, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.removed, cancel)()
	c, err := connect(trigger, store.NamespacePrefix(s.namespace))
	if err != nil {
		if trigger.Err() != nil {
			return nil
		}
		return fmt.Errorf("failed to connect to the store for namespace %s: %w", s.namespace, err)
	}
	defer func() {
		if err := c.Close(); err != nil {
			s.log.Warn("failed to close the namespace's store client", "error", err)
		}
	}()
	runs := []func(context.Context) error{
		func(ctx context.Context) error { return s.table.Run(ctx, c) },
		s.outbound.Run,
	}
	if s.policy != nil {
		s.log.Info("serving HBONE", "callers", s.policy.policy())
		runs = append(runs, func(ctx context.Context) error { s.policy.revokeLoop(ctx); return nil })
	}
	return serveAll(trigger, runs, func(failed <-chan struct{}) {
		if ctx.Err() == nil {
			g.drainRemoved(ctx, s, failed)
		}
	})
}

// drainRemoved drains a namespace no longer served while the gateway goes on: its listeners
// keep accepting, and its targets keep taking tunnels, for Drain.ShutdownDelay (the hub is
// moving its Services and peers elsewhere); then they stop (a tunnel to one of its targets is
// refused target-not-served) and its connections and tunnels in flight get Drain.Timeout
// before the rest is closed. It stops waiting when ctx (the gateway's serving) ends or one
// of the namespace's runs fails.
func (g *Gateway) drainRemoved(ctx context.Context, s *servedNamespace, failed <-chan struct{}) {
	d := g.opts.Drain
	s.log.Info("draining the namespace no longer served", "shutdownDelay", d.ShutdownDelay, "drainTimeout", d.Timeout)
	select {
	case <-time.After(d.ShutdownDelay):
	case <-failed:
		return
	case <-ctx.Done():
		return
	}
	g.dispatch.remove(s.policy)
	if s.policy != nil {
		defer s.policy.closeTunnels()
	}
	dctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	start := time.Now()
	err := s.outbound.drain(dctx)
	if s.policy != nil {
		err = errors.Join(err, s.policy.drain(dctx))
	}
	if err != nil {
		s.log.Warn("drain timed out: closing what is left", "after", time.Since(start).Round(time.Millisecond), "error", err)
		return
	}
	s.log.Info("drained", "after", time.Since(start).Round(time.Millisecond))
}
