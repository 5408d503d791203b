package waypoint

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/meshfed/meshfed/internal/quietconn"
	"github.com/meshfed/meshfed/waypoint/balance"
	"github.com/meshfed/meshfed/waypoint/http1"
	"github.com/meshfed/meshfed/waypoint/table"
)

// errNoTryRoute reports a dial without the route of the try in its context: a bug.
var errNoTryRoute = errors.New("no route in the dial context")

// connectError marks an error of dial: nothing reached the endpoint, so any request may be
// retried elsewhere.
type connectError struct{ err error }

func (e *connectError) Error() string { return e.err.Error() }
func (e *connectError) Unwrap() error { return e.err }

// upstreamKey names one connection pool: a host, spoken to in one protocol.
type upstreamKey struct {
	h     *balance.Host
	proto table.Protocol
}

// upstreams holds the connection pools of each endpoint and protocol, so that each endpoint
// has its own kept-alive connections: an http1.Pool for HTTP/1.1, a net/http Transport with its
// one multiplexed connection for h2c. Every connection is opened by Outbound.dial, so connect
// failures feed outlier detection and endpoints on other networks are reached however dial
// reaches them.
type upstreams struct {
	o  *Outbound
	mu sync.Mutex
	m  map[upstreamKey]upstreamPool
}

// upstreamPool is one endpoint's pool in one protocol.
type upstreamPool interface {
	http.RoundTripper
	CloseIdleConnections()
}

func newUpstreams(o *Outbound) *upstreams {
	return &upstreams{o: o, m: make(map[upstreamKey]upstreamPool)}
}

// transport returns the pool for h in the route's protocol, creating it.
func (u *upstreams) transport(r *table.Route, h *balance.Host) upstreamPool {
	k := upstreamKey{h: h, proto: r.Protocol}
	u.mu.Lock()
	defer u.mu.Unlock()
	if t, ok := u.m[k]; ok {
		return t
	}
	var t upstreamPool
	if r.Protocol == table.ProtocolH2C {
		t = u.netTransport(h, r.Protocol)
	} else {
		t = http1.NewPool(func(ctx context.Context) (net.Conn, error) { return u.dial(ctx, h) },
			func() *http.Transport { return u.netTransport(h, r.Protocol) })
	}
	u.m[k] = t
	return t
}

// netTransport is a net/http Transport to h alone.
func (u *upstreams) netTransport(h *balance.Host, proto table.Protocol) *http.Transport {
	t := &http.Transport{
		DialContext:           func(ctx context.Context, _, _ string) (net.Conn, error) { return u.dial(ctx, h) },
		MaxIdleConnsPerHost:   http1.IdlePerHost,
		IdleConnTimeout:       http1.IdleTimeout,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true, // pass bodies through as they are
		Protocols:             new(http.Protocols),
	}
	if proto == table.ProtocolH2C {
		t.Protocols.SetUnencryptedHTTP2(true)
		t.HTTP2 = &http.HTTP2Config{SendPingTimeout: 10 * time.Second, PingTimeout: 5 * time.Second}
	} else {
		t.Protocols.SetHTTP1(true)
	}
	return t
}

// dial opens a connection to h for the route of the try that asked for it. The connection is
// counted in h.InFlight and in the active-upstream gauge until it is closed, as dial's contract
// asks; requests are counted separately (host.requests).
func (u *upstreams) dial(ctx context.Context, h *balance.Host) (net.Conn, error) {
	r, _ := ctx.Value(tryRouteKey{}).(*table.Route)
	if r == nil {
		return nil, errNoTryRoute
	}
	c, err := u.o.dial(ctx, r, h)
	if err != nil {
		return nil, &connectError{err: err}
	}
	u.o.metrics.upstreamOpened(r)
	return &upstreamConn{Conn: quietconn.New(c), release: func() {
		h.InFlight.Add(-1)
		u.o.metrics.upstreamClosed(r)
	}}, nil
}

// tryRouteKey is the context key of the route a try was picked from.
type tryRouteKey struct{}

// retain closes the pools of hosts no route of snap uses any more (idle connections at once,
// busy ones when their requests end).
func (u *upstreams) retain(snap *table.View) {
	used := make(map[upstreamKey]bool)
	for _, r := range snap.Routes {
		for _, h := range r.Hosts() {
			used[upstreamKey{h: h, proto: r.Protocol}] = true
		}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for k, t := range u.m {
		if !used[k] {
			if p, ok := t.(*http1.Pool); ok {
				p.Close()
			} else {
				t.CloseIdleConnections()
			}
			delete(u.m, k)
		}
	}
}

// closeIdle closes the idle connections of every pool.
func (u *upstreams) closeIdle() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, t := range u.m {
		t.CloseIdleConnections()
	}
}

// upstreamConn runs release once when the connection is closed.
type upstreamConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *upstreamConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
