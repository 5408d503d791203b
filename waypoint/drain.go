package waypoint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// DrainOptions are what a waypoint does when Run's context ends. The zero value closes
// everything at once.
type DrainOptions struct {
	// ShutdownDelay is how long the waypoint keeps accepting after it started failing /readyz:
	// the time its Services' endpoints, every node's kube-proxy and the peers reaching it
	// through a load balancer need to stop sending it new connections.
	ShutdownDelay time.Duration
	// Timeout bounds the wait, after the listeners closed, for requests, connections and
	// tunnels in flight; whatever is left then is closed.
	Timeout time.Duration
}

// Validate rejects negative durations.
func (d DrainOptions) Validate() error {
	if d.ShutdownDelay < 0 || d.Timeout < 0 {
		return fmt.Errorf("failed to validate drain options %+v: durations must not be negative", d)
	}
	return nil
}

// Draining reports whether the waypoint has begun to drain (Run's context ended).
func (w *Waypoint) Draining() bool { return w.draining.Load() }

// drain fails readiness, keeps serving for ShutdownDelay, then stops accepting (outbound
// listeners, the inbound HBONE server) and waits up to Timeout for what is in flight.
func (w *Waypoint) drain(failed <-chan struct{}) {
	drainServing(w.log, w.opts.Drain, &w.draining, failed, []*Outbound{w.outbound}, w.inbound)
}

// drainServing is the drain of a waypoint or a shared gateway: it sets draining (readiness
// fails from then on), keeps serving for d.ShutdownDelay unless failed closes first, then stops
// accepting on every outbound side and on in (nil when there is none) and waits up to d.Timeout
// for what is in flight.
func drainServing(log *slog.Logger, d DrainOptions, draining *atomic.Bool, failed <-chan struct{}, outbounds []*Outbound, in *Inbound) {
	draining.Store(true)
	if d == (DrainOptions{}) {
		return
	}
	log.Info("draining: failing readiness, still accepting", "shutdownDelay", d.ShutdownDelay, "drainTimeout", d.Timeout)
	select {
	case <-time.After(d.ShutdownDelay):
	case <-failed:
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.Timeout)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, len(outbounds)+1)
	for i, o := range outbounds {
		wg.Go(func() { errs[i] = o.drain(ctx) })
	}
	if in != nil {
		wg.Go(func() { errs[len(outbounds)] = in.srv.Shutdown(ctx) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		log.Warn("drain timed out: closing what is left", "after", time.Since(start).Round(time.Millisecond), "error", err)
		return
	}
	log.Info("drained", "after", time.Since(start).Round(time.Millisecond))
}

// drain closes the listeners, lets every HTTP/1.1 connection finish the request it is
// serving (its response says Connection: close) and closes the idle ones, asks every h2c
// connection to finish (GOAWAY), and waits until every connection has ended or ctx ends.
// Connections still open then are left to shutdown.
func (o *Outbound) drain(ctx context.Context) error {
	o.mu.Lock()
	o.draining = true
	for port, l := range o.listeners {
		_ = l.Close()
		delete(o.listeners, port)
	}
	hooks := make([]func(), 0, len(o.drainHooks))
	for h := range o.drainHooks {
		hooks = append(hooks, h.fn)
	}
	o.mu.Unlock()
	for _, fn := range hooks {
		fn()
	}
	done := make(chan struct{})
	go func() {
		o.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		o.mu.Lock()
		n := len(o.conns)
		o.mu.Unlock()
		return fmt.Errorf("failed to drain %d client connections: %w", n, ctx.Err())
	}
}

// drainHook is what a connection does when the waypoint starts to drain.
type drainHook struct{ fn func() }

// onDrain registers fn to run when draining starts, or runs it now if it has; the returned
// function unregisters it.
func (o *Outbound) onDrain(fn func()) (remove func()) {
	h := &drainHook{fn: fn}
	o.mu.Lock()
	if o.draining {
		o.mu.Unlock()
		fn()
		return func() {}
	}
	o.drainHooks[h] = struct{}{}
	o.mu.Unlock()
	return func() {
		o.mu.Lock()
		delete(o.drainHooks, h)
		o.mu.Unlock()
	}
}
