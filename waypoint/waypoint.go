package waypoint

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/waypoint/table"
)

// Waypoint is one namespace's waypoint: the endpoint table following the store, the outbound
// listeners using it and, with HBONE configured, the inbound HBONE server.
type Waypoint struct {
	opts     Options
	log      *slog.Logger
	table    *table.Table
	outbound *Outbound
	inbound  *Inbound
	reg      *prometheus.Registry // the metrics /metrics serves
	draining atomic.Bool
}

// New validates opts and builds a waypoint; it does no I/O.
func New(opts Options) (*Waypoint, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	t := NewTable(opts)
	opts = opts.withDefaults()
	reg := newRegistry()
	w := &Waypoint{opts: opts, log: opts.Logger.With("component", "waypoint", "namespace", opts.Namespace), table: t, outbound: newOutbound(t, opts, reg), reg: reg}
	refusals := refusalCollector{outbound: w.outbound.guard}
	if opts.HBONE.Enabled() && opts.HBONE.ListenAddress != "" {
		in, err := NewInbound(t, opts)
		if err != nil {
			return nil, err
		}
		w.inbound, refusals.inbound = in, in.guard
	}
	w.outbound.metrics.reg.MustRegister(refusals)
	return w, nil
}

// Table is the waypoint's endpoint table.
func (w *Waypoint) Table() *table.Table { return w.table }

// Outbound is the waypoint's outbound side.
func (w *Waypoint) Outbound() *Outbound { return w.outbound }

// Inbound is the waypoint's HBONE server; nil when HBONE or its listen address is not set.
func (w *Waypoint) Inbound() *Inbound { return w.inbound }

// Admin is the handler of the admin endpoints (see AdminHandler) and of /metrics. Its
// /readyz answers 200 only once the table has its first snapshot from the store and the
// outbound listeners of that snapshot have been opened, and 503 again from the moment the
// waypoint starts to drain.
func (w *Waypoint) Admin() http.Handler {
	return withMetrics(adminHandler(only(w.table), w.readiness), w.reg, w.reg)
}

// readiness is "" when the waypoint is ready, else why not.
func (w *Waypoint) readiness() string {
	if w.draining.Load() {
		return "draining"
	}
	return w.outbound.readiness()
}

// Run follows the store through c and serves the outbound listeners and the inbound server
// until ctx ends, or until one of them fails (which stops the others at once). When ctx ends
// it drains (Options.Drain): /readyz fails at once, listeners keep accepting for
// ShutdownDelay, then close, and requests, connections and tunnels in flight get up to
// Drain.Timeout to finish while the table keeps following the store. It returns after every
// listener and connection has been closed, with the errors of the table's watch, the
// outbound side and the inbound server.
func (w *Waypoint) Run(ctx context.Context, c *store.Client) error {
	runs := []func(context.Context) error{
		func(ctx context.Context) error { return w.table.Run(ctx, c) },
		w.outbound.Run,
	}
	if w.inbound != nil {
		runs = append(runs, w.inbound.Run)
	}
	return serveAll(ctx, runs, w.drain)
}

// serveAll runs every one of runs with a context of its own until ctx ends or one of them
// fails, which stops the others at once. When ctx ends, drain runs first (failed closes if one
// fails meanwhile). It returns when every run has, with their errors in order.
func serveAll(ctx context.Context, runs []func(context.Context) error, drain func(failed <-chan struct{})) error {
	serve, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	failed := make(chan struct{})
	var failOnce sync.Once
	fail := func() { failOnce.Do(func() { close(failed) }) }
	var wg sync.WaitGroup
	errs := make([]error, len(runs))
	for i, run := range runs {
		wg.Go(func() {
			if errs[i] = run(serve); errs[i] != nil {
				fail()
			}
		})
	}
	select {
	case <-ctx.Done():
		drain(failed)
	case <-failed:
	}
	stop()
	wg.Wait()
	return errors.Join(errs...)
}
