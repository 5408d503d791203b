package member

import (
	"context"
	"net"
	"sync"
	"time"
)

// closeGrace is how long Close lets the caches end on their own before it closes the
// connection's TCP connections under them.
const closeGrace = 2 * time.Second

// closeWait is how long Close then still waits for the caches to end.
const closeWait = 5 * time.Second

// connTracker dials the member's API server and remembers every connection, so that Close can
// end requests a hung API server never answers (an informer's list blocked reading a response
// body does not notice its context ending).
type connTracker struct {
	dialer net.Dialer
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func newConnTracker() *connTracker {
	return &connTracker{dialer: net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}, conns: map[net.Conn]struct{}{}}
}

// DialContext has the signature of rest.Config.Dial.
func (t *connTracker) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := t.dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		_ = c.Close()
		return nil, net.ErrClosed
	}
	tc := &trackedConn{Conn: c, t: t}
	t.conns[tc] = struct{}{}
	return tc, nil
}

// closeAll closes every connection and refuses new ones.
func (t *connTracker) closeAll() {
	t.mu.Lock()
	conns := t.conns
	t.conns, t.closed = map[net.Conn]struct{}{}, true
	t.mu.Unlock()
	for c := range conns {
		_ = c.Close()
	}
}

type trackedConn struct {
	net.Conn
	t    *connTracker
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.t.mu.Lock()
		delete(c.t.conns, c)
		c.t.mu.Unlock()
	})
	return c.Conn.Close()
}
