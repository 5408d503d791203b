package http1

import (
	"context"
	"sync"
	"time"
)

// Context is a context.Context canceled by Cancel or when its parent is done, carrying at most
// one value of its own: what context.WithCancelCause over context.WithValue gives, made for the
// request path, where the Server gives every request one and the waypoint every try of it.
//
// What makes it cheaper is how it is watched. A Context whose parent is a Context, and a
// Pool's exchange on a connection, watch it in a slot of its own: no Done channel, no map of
// children, no AfterFunc context and stop function, which is what deriving and watching
// standard contexts allocated per request and per try. Done's channel is made only when
// asked for. Everything else sees an ordinary context: Done, Err, Deadline and Value as usual,
// and an AfterFunc method that context.WithCancel and context.AfterFunc use, so a standard
// context derived from a Context is canceled with it without a goroutine.
//
// context.Cause of a Context is its Err (or, when its parent was canceled with a cause, that
// cause): the Context's own cause, given to Cancel, is Cause's.
type Context struct {
	parent   context.Context
	key, val any
	owner    *Context    // parent, when it is a Context (watched in its slots)
	stop     func() bool // ends the watch of any other parent

	mu       sync.Mutex
	err      error
	cause    error
	done     chan struct{}
	watchers []watcher
	slots    [2]watcher // watchers' first backing array
}

// watcher is told when a Context it watches is done. interrupt must not block, and runs on the
// goroutine that cancels (or, for a foreign parent, on AfterFunc's).
type watcher interface{ interrupt() }

// NewContext returns a Context child of parent, whose Value(key) is val when key is not nil.
func NewContext(parent context.Context, key, val any) *Context {
	c := new(Context)
	c.Init(parent, key, val)
	return c
}

// Init makes c, a zero Context held in a struct of the caller's, a child of parent, as
// NewContext does. c must not be copied after.
func (c *Context) Init(parent context.Context, key, val any) {
	c.parent, c.key, c.val = parent, key, val
	c.watchers = c.slots[:0]
	if p, ok := parent.(*Context); ok {
		c.owner = p
		if !p.watch(c) {
			err, cause := p.errCause()
			c.cancel(err, cause)
		}
		return
	}
	if parent.Done() == nil {
		return // never canceled
	}
	if err := parent.Err(); err != nil {
		c.cancel(err, context.Cause(parent))
		return
	}
	c.stop = context.AfterFunc(parent, func() { c.cancel(parent.Err(), context.Cause(parent)) })
}

// Cancel cancels c and the contexts derived from it, with cause (context.Canceled when nil)
// as Cause reports it; after the first, calls do nothing.
func (c *Context) Cancel(cause error) {
	if cause == nil {
		cause = context.Canceled
	}
	c.cancel(context.Canceled, cause)
}

func (c *Context) cancel(err, cause error) {
	if cause == nil {
		cause = err
	}
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err, c.cause = err, cause
	if c.done == nil {
		c.done = closedChan
	} else {
		close(c.done)
	}
	ws := c.watchers
	c.watchers = nil
	c.mu.Unlock()
	for i, w := range ws {
		w.interrupt()
		ws[i] = nil
	}
	if c.owner != nil {
		c.owner.unwatch(c)
	}
	if c.stop != nil {
		c.stop()
	}
}

// interrupt cancels c when its owner is done.
func (c *Context) interrupt() {
	err, cause := c.owner.errCause()
	c.cancel(err, cause)
}

var closedChan = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// watch has w told when c is done; false, telling nothing, when c already is.
func (c *Context) watch(w watcher) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return false
	}
	c.watchers = append(c.watchers, w)
	return true
}

// unwatch stops watching; false when c is done, and w has been or is being told.
func (c *Context) unwatch(w watcher) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return false
	}
	for i, x := range c.watchers {
		if x == w {
			last := len(c.watchers) - 1
			c.watchers[i] = c.watchers[last]
			c.watchers[last] = nil
			c.watchers = c.watchers[:last]
			break
		}
	}
	return true
}

func (c *Context) errCause() (error, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err, c.cause
}

// Cause is what c was canceled with: Cancel's cause, or its parent's; nil while c is not done.
func (c *Context) Cause() error {
	_, cause := c.errCause()
	return cause
}

func (c *Context) Deadline() (time.Time, bool) { return c.parent.Deadline() }

func (c *Context) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
	}
	return c.done
}

func (c *Context) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *Context) Value(key any) any {
	if c.key != nil && key == c.key {
		return c.val
	}
	return c.parent.Value(key)
}

// AfterFunc runs f in its own goroutine once c is done, as context.AfterFunc; stop reports
// whether it kept f from running. context.WithCancel and context.AfterFunc of c use it.
func (c *Context) AfterFunc(f func()) (stop func() bool) {
	w := &funcWatcher{f: f}
	if !c.watch(w) {
		go f()
		return func() bool { return false }
	}
	return func() bool { return c.unwatch(w) }
}

// funcWatcher runs its function in a goroutine of its own when told.
type funcWatcher struct{ f func() }

func (w *funcWatcher) interrupt() { go w.f() }

// causeOf is ctx's cause: a Context's own (context.Cause of it is only its Err).
func causeOf(ctx context.Context) error {
	if c, ok := ctx.(*Context); ok {
		return c.Cause()
	}
	return context.Cause(ctx)
}

// ctxWatch is an exchange's watch of its request's context: a Context's slot, or an AfterFunc
// of any other.
type ctxWatch struct {
	c      *Context
	w      watcher
	stopFn func() bool
}

// watchContext has w interrupted when ctx is done (now, when it already is).
func watchContext(ctx context.Context, w watcher) ctxWatch {
	if c, ok := ctx.(*Context); ok {
		if !c.watch(w) {
			w.interrupt()
		}
		return ctxWatch{c: c, w: w}
	}
	return ctxWatch{stopFn: context.AfterFunc(ctx, w.interrupt)}
}

// stop ends the watch; false when the context is done, and w has been or is being interrupted.
func (s ctxWatch) stop() bool {
	if s.c != nil {
		return s.c.unwatch(s.w)
	}
	return s.stopFn()
}
