package hbone

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// mux is one multiplexed connection to a peer (HTTP/2 or HTTP/3).
type mux interface {
	// reserve claims a stream slot without blocking; false when the connection is full or broken.
	reserve() bool
	// unreserve gives back a slot claimed by reserve that open did not consume.
	unreserve()
	// open sends the CONNECT request on a reserved slot and returns the stream and answer.
	open(ctx context.Context, req *http.Request) (stream, *http.Response, func(), error)
	// broken reports whether the connection can no longer carry new streams.
	broken() bool
	// inFlight counts open and reserved streams.
	inFlight() int
	// ackSample reads the kernel's account of the peer's acknowledgements (stall.go); false
	// when it cannot be known (HTTP/3, not Linux).
	ackSample() (ackSample, bool)
	close() error
}

// poolKey identifies the connections that may carry a tunnel: same peer, same identity and
// cluster, same protocol.
type poolKey struct {
	addr     string
	identity string
	cluster  string
	protocol Protocol
}

// dialCall is one connection attempt shared by every caller waiting for the same key.
type dialCall struct {
	done chan struct{}
	err  error
}

type poolEntry struct {
	conns   []*pooledMux
	dialing *dialCall
	// stalled is set when a connection of the key was closed because its peer stopped
	// acknowledging, and cleared when a new connection completes (or forgotten with the entry
	// when the sweeper finds neither a connection nor a dial); meanwhile tunnel opens that find
	// no connection fail at once (errPeerStalled) while a dial runs in the background.
	stalled bool
}

type pooledMux struct {
	mux
	idleSince time.Time
	// usable reports whether the credentials the connection was made with still serve new
	// streams at a time (nil: always); once they do not, the connection is retired: it carries
	// no new stream, its open ones run to their end, and then it is closed.
	usable  func(time.Time) bool
	retired bool
	// watch is the stall watcher's, and touched by it alone (stall.go).
	watch ackWatch
}

// retire marks c retired when its credentials no longer serve at now, and reports whether it
// is (then or before).
func (c *pooledMux) retire(now time.Time) bool {
	if !c.retired && c.usable != nil && !c.usable(now) {
		c.retired = true
	}
	return c.retired
}

// dialFunc makes one new connection for a key, with its credentials' usable (nil: always).
type dialFunc func(ctx context.Context, key poolKey) (mux, func(time.Time) bool, error)

// pool holds multiplexed connections per key, dials at most one at a time per key, closes
// connections that stay idle and those whose peer stopped acknowledging (stall.go).
type pool struct {
	dial         dialFunc
	dialTimeout  time.Duration
	idleTimeout  time.Duration
	stallTimeout time.Duration // 0: no stall watcher
	logger       *slog.Logger

	mu       sync.Mutex
	entries  map[poolKey]*poolEntry
	closed   bool
	watching bool          // the stall watcher runs
	done     chan struct{} // closed by closeAll
}

// newPool returns a pool using opts' DialTimeout, IdleTimeout, StallTimeout (negative: none)
// and Logger; opts has its defaults set.
func newPool(dial dialFunc, opts *Options) *pool {
	return &pool{
		dial: dial, dialTimeout: opts.DialTimeout, idleTimeout: opts.IdleTimeout,
		stallTimeout: max(opts.StallTimeout, 0), logger: opts.Logger,
		entries: map[poolKey]*poolEntry{}, done: make(chan struct{}),
	}
}

// get returns a connection with a reserved stream slot for key, dialing when every pooled
// connection is full. dialed reports whether a new connection was made for this call. While
// the key is marked stalled, get starts the dial but does not wait for it: errPeerStalled.
func (p *pool) get(ctx context.Context, key poolKey) (m mux, dialed bool, err error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, false, errPoolClosed
		}
		e := p.entry(key)
		if m := e.reserveLocked(time.Now()); m != nil {
			p.watchLocked(key)
			p.mu.Unlock()
			return m, dialed, nil
		}
		call := e.dialing
		if call == nil {
			call = &dialCall{done: make(chan struct{})}
			e.dialing = call
			go p.runDial(key, e, call)
			dialed = true
		}
		if e.stalled {
			p.mu.Unlock()
			return nil, dialed, errPeerStalled
		}
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, false, ctx.Err()
		case <-call.done:
		}
		if call.err != nil {
			return nil, false, call.err
		}
	}
}

// runDial dials for key detached from any one caller, so that a caller giving up does not
// fail the others waiting for the same connection.
func (p *pool) runDial(key poolKey, e *poolEntry, call *dialCall) {
	ctx, cancel := context.WithTimeout(context.Background(), p.dialTimeout)
	defer cancel()
	m, usable, err := p.dial(ctx, key)
	p.mu.Lock()
	defer p.mu.Unlock()
	e.dialing = nil
	call.err = err
	close(call.done)
	if err != nil {
		return
	}
	if p.closed {
		m.close()
		return
	}
	e.stalled = false
	e.conns = append(e.conns, &pooledMux{mux: m, usable: usable})
}

func (p *pool) entry(key poolKey) *poolEntry {
	e, ok := p.entries[key]
	if !ok {
		e = &poolEntry{}
		p.entries[key] = e
	}
	return e
}

func (e *poolEntry) reserveLocked(now time.Time) mux {
	live := e.conns[:0]
	var got mux
	for _, c := range e.conns {
		retired := c.retire(now)
		if c.broken() || (retired && c.inFlight() == 0) {
			c.close()
			continue
		}
		live = append(live, c)
		if got == nil && !retired && c.reserve() {
			c.idleSince = time.Time{}
			got = c.mux
		}
	}
	clear(e.conns[len(live):])
	e.conns = live
	return got
}

// sweep closes connections idle for longer than the idle timeout and drops broken ones.
func (p *pool) sweep(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for key, e := range p.entries {
		live := e.conns[:0]
		for _, c := range e.conns {
			switch {
			case c.broken(), c.retire(now) && c.inFlight() == 0:
				c.close()
				continue
			case c.inFlight() > 0:
				c.idleSince = time.Time{}
			case c.idleSince.IsZero():
				c.idleSince = now
			case now.Sub(c.idleSince) >= p.idleTimeout:
				c.close()
				continue
			}
			live = append(live, c)
		}
		clear(e.conns[len(live):])
		e.conns = live
		if len(live) == 0 && e.dialing == nil {
			delete(p.entries, key)
		}
	}
}

// runSweeper sweeps every half idle timeout until ctx ends.
func (p *pool) runSweeper(ctx context.Context) {
	t := time.NewTicker(p.idleTimeout / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			p.sweep(now)
		}
	}
}

// connCount returns how many connections are pooled for key.
func (p *pool) connCount(key poolKey) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.entries[key]; ok {
		return len(e.conns)
	}
	return 0
}

// closeAll closes every pooled connection and refuses further use.
func (p *pool) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		close(p.done)
	}
	p.closed = true
	for key, e := range p.entries {
		for _, c := range e.conns {
			c.close()
		}
		delete(p.entries, key)
	}
}
