package waypoint

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http/httputil"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshfed/meshfed/waypoint/internal/coarse"
	"github.com/meshfed/meshfed/waypoint/table"
	"github.com/meshfed/meshfed/waypoint/tunnel"
)

// relistenInterval is how often Outbound retries listeners that failed to bind, even when the
// table does not change.
const relistenInterval = 5 * time.Second

// Outbound carries client connections from the waypoint ports to endpoints: one TCP listener
// per Route of the table's current snapshot, opened and closed as routes come and go. Closing a
// listener (a service or port withdrawn) leaves its accepted connections running.
type Outbound struct {
	table *table.Table
	opts  Options
	log   *slog.Logger
	// picker picks endpoints from the routes' plans, retries included (table.Picker).
	picker *table.Picker
	// tunnels is the HBONE dialer, set by Run when HBONE is enabled (or by a shared gateway
	// before Run), before any connection.
	tunnels *tunnel.Dialer
	// proxy, upstreams and metrics serve per-request routes (http.go) and count traffic.
	proxy     *httputil.ReverseProxy
	upstreams *upstreams
	metrics   *metrics
	// timers carry the per-request timeouts and watches (waypoint/internal/coarse).
	timers *coarse.Timers
	// guard refuses endpoint addresses no dial may reach (connect.go).
	guard *dialGuard
	// lingerDelay overrides http1.DefaultLingerDelay (for the fuzz test).
	lingerDelay time.Duration

	mu        sync.Mutex
	listeners map[int32]net.Listener
	conns     map[net.Conn]struct{}
	wg        sync.WaitGroup
	// draining: drain has closed the listeners and reconcile opens none (drain.go).
	draining   bool
	drainHooks map[*drainHook]struct{}
	// synced: a reconcile has run on a snapshot of a ready table (its listeners are open).
	synced atomic.Bool
}

// NewOutbound returns the outbound side for table, with metrics in a registry of its own; it
// does no I/O until Run.
func NewOutbound(tab *table.Table, opts Options) *Outbound {
	return newOutbound(tab, opts, newRegistry())
}

// newOutbound returns the outbound side for table with its metrics registered in reg.
func newOutbound(tab *table.Table, opts Options, reg prometheus.Registerer) *Outbound {
	opts = opts.withDefaults()
	o := &Outbound{
		table: tab, opts: opts,
		log:       opts.Logger.With("component", "waypoint-outbound", "namespace", opts.Namespace),
		picker:    table.NewPicker(opts.Seed),
		metrics:   newMetrics(tab, reg),
		timers:    coarse.NewTimers(coarse.Tick),
		guard:     newDialGuard(opts.AllowLoopbackEndpoints),
		listeners: make(map[int32]net.Listener),
		conns:     make(map[net.Conn]struct{}),

		drainHooks: make(map[*drainHook]struct{}),
	}
	o.proxy, o.upstreams = o.newReverseProxy(), newUpstreams(o)
	return o
}

// Run keeps the listeners in line with the table until ctx ends, then closes every listener
// and connection and waits for their goroutines. With HBONE enabled it first starts the
// tunnel dialer (unless a shared gateway gave it the one of all its namespaces); its error is
// the only one Run returns.
func (o *Outbound) Run(ctx context.Context) error {
	if o.opts.HBONE.Enabled() && o.tunnels == nil {
		t, err := newTunnels(o.opts)
		if err != nil {
			return err
		}
		o.tunnels = t
		defer t.Close()
	}
	ticker := time.NewTicker(relistenInterval)
	defer ticker.Stop()
	o.reconcile(ctx)
	for {
		select {
		case <-ctx.Done():
			o.shutdown()
			return nil
		case <-o.table.Changed():
		case <-ticker.C:
		}
		o.reconcile(ctx)
	}
}

// readiness is "" once the table has its first snapshot from the store and the listeners of
// a snapshot of the ready table have been opened, else why not.
func (o *Outbound) readiness() string {
	switch {
	case !o.table.Ready():
		return "endpoint table not synced with the store yet"
	case !o.synced.Load():
		return "listeners not opened yet"
	}
	return ""
}

// Ports lists the ports being listened on.
func (o *Outbound) Ports() []int32 {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]int32, 0, len(o.listeners))
	for p := range o.listeners {
		out = append(out, p)
	}
	return out
}

// reconcile opens a listener for every route without one and closes those without a route.
func (o *Outbound) reconcile(ctx context.Context) {
	ready := o.table.Ready() // before the snapshot: a ready table has swapped its first one in
	snap := o.table.View()
	o.upstreams.retain(snap)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.draining {
		return
	}
	if ready {
		defer o.synced.Store(true)
	}
	for port, l := range o.listeners {
		if snap.Route(port) == nil {
			_ = l.Close()
			delete(o.listeners, port)
			o.log.Info("closed waypoint listener", "port", port)
		}
	}
	for _, r := range snap.Routes {
		if _, open := o.listeners[r.ListenPort]; open || ctx.Err() != nil {
			continue
		}
		addr := net.JoinHostPort(o.opts.ListenHost, strconv.Itoa(int(r.ListenPort)))
		var lc net.ListenConfig
		l, err := lc.Listen(ctx, "tcp", addr)
		if err != nil {
			o.log.Warn("failed to open waypoint listener, retrying later", "address", addr, "service", r.Service(), "error", err)
			continue
		}
		o.listeners[r.ListenPort] = l
		o.log.Info("opened waypoint listener", "address", l.Addr().String(), "service", r.Service(), "port", r.Port)
		o.wg.Go(func() { o.accept(ctx, l, r.ListenPort) })
	}
}

// accept serves one listener until it is closed.
func (o *Outbound) accept(ctx context.Context, l net.Listener, port int32) {
	for {
		c, err := l.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				o.log.Warn("waypoint listener failed", "port", port, "error", err)
				o.mu.Lock()
				if o.listeners[port] == l {
					delete(o.listeners, port) // reopened by the next reconcile
				}
				o.mu.Unlock()
				_ = l.Close()
			}
			return
		}
		if !o.track(c) {
			_ = c.Close()
			return
		}
		o.wg.Go(func() {
			defer o.untrack(c)
			o.handle(ctx, c, port)
		})
	}
}

// track registers an accepted connection; false once shut down.
func (o *Outbound) track(c net.Conn) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.conns == nil {
		return false
	}
	o.conns[c] = struct{}{}
	return true
}

func (o *Outbound) untrack(c net.Conn) {
	o.mu.Lock()
	delete(o.conns, c)
	o.mu.Unlock()
	_ = c.Close()
}

// shutdown closes listeners and connections and waits for their goroutines.
func (o *Outbound) shutdown() {
	o.mu.Lock()
	for port, l := range o.listeners {
		_ = l.Close()
		delete(o.listeners, port)
	}
	for c := range o.conns {
		_ = c.Close()
	}
	o.conns = nil
	o.mu.Unlock()
	o.wg.Wait()
	o.upstreams.closeIdle()
}
