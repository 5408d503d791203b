package waypoint

import (
	"context"
	"net/http"
	"sync"

	"github.com/meshfed/meshfed/federation/store"
)

// Waypoint is one namespace's waypoint: the endpoint table following the store and the
// outbound listeners using it.
type Waypoint struct {
	table    *Table
	outbound *Outbound
}

// New validates opts and builds a waypoint; it does no I/O.
func New(opts Options) (*Waypoint, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	t := NewTable(opts)
	return &Waypoint{table: t, outbound: NewOutbound(t, opts)}, nil
}

// Table is the waypoint's endpoint table.
func (w *Waypoint) Table() *Table { return w.table }

// Outbound is the waypoint's outbound side.
func (w *Waypoint) Outbound() *Outbound { return w.outbound }

// Admin is the handler of the admin endpoints (see AdminHandler) and of /metrics.
func (w *Waypoint) Admin() http.Handler {
	return withMetrics(AdminHandler(w.table), w.outbound.metrics.reg)
}

// Run follows the store through c and serves the outbound listeners until ctx ends; it
// returns after every listener and connection has been closed. The error is the table's, if
// its watch could not start.
func (w *Waypoint) Run(ctx context.Context, c *store.Client) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { _ = w.outbound.Run(ctx) })
	err := w.table.Run(ctx, c)
	cancel()
	wg.Wait()
	return err
}
