package waypoint

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/meshfed/meshfed/federation/store"
)

// Waypoint is one namespace's waypoint: the endpoint table following the store, the outbound
// listeners using it and, with HBONE configured, the inbound HBONE server.
type Waypoint struct {
	table    *Table
	outbound *Outbound
	inbound  *Inbound
}

// New validates opts and builds a waypoint; it does no I/O.
func New(opts Options) (*Waypoint, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	t := NewTable(opts)
	w := &Waypoint{table: t, outbound: NewOutbound(t, opts)}
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
func (w *Waypoint) Table() *Table { return w.table }

// Outbound is the waypoint's outbound side.
func (w *Waypoint) Outbound() *Outbound { return w.outbound }

// Inbound is the waypoint's HBONE server; nil when HBONE or its listen address is not set.
func (w *Waypoint) Inbound() *Inbound { return w.inbound }

// Admin is the handler of the admin endpoints (see AdminHandler) and of /metrics.
func (w *Waypoint) Admin() http.Handler {
	return withMetrics(AdminHandler(w.table), w.outbound.metrics.reg)
}

// Run follows the store through c and serves the outbound listeners and the inbound server
// until ctx ends, or until one of them fails (which stops the others); it returns after every
// listener and connection has been closed, with the errors of the table's watch, the
// outbound side and the inbound server.
func (w *Waypoint) Run(ctx context.Context, c *store.Client) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var outErr, inErr error
	wg.Go(func() {
		if outErr = w.outbound.Run(ctx); outErr != nil {
			cancel()
		}
	})
	if w.inbound != nil {
		wg.Go(func() {
			if inErr = w.inbound.Run(ctx); inErr != nil {
				cancel()
			}
		})
	}
	err := w.table.Run(ctx, c)
	cancel()
	wg.Wait()
	return errors.Join(err, outErr, inErr)
}
