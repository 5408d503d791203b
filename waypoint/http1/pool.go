package http1

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// Pool is the HTTP/1.1 connection pool of one endpoint. A request it can send whole before
// reading the answer (no Expect, no Upgrade, a body that is empty or held in memory: every
// request whose body ReplayBody buffered) is written and answered on the calling goroutine, on
// a kept-alive connection: no writer or reader goroutine per connection and no hand-off
// between goroutines per request, which is most of what http.Transport costs per request at a
// waypoint's rates. Any other request (streamed bodies, 100-continue, protocol upgrades) needs
// reading and writing at once and goes to a net/http Transport of the same endpoint.
type Pool struct {
	dial     func(ctx context.Context) (net.Conn, error)
	fallback func() *http.Transport // created on first use

	mu      sync.Mutex
	idle    []*h1Conn // most recently used last
	closed  bool
	slow    *http.Transport
	maxIdle int
	idleFor time.Duration
	now     func() time.Time
}

// h1Conn is one kept-alive upstream connection with its buffers.
type h1Conn struct {
	c      net.Conn
	end    context.CancelFunc // ends the context the connection was opened with
	br     *bufio.Reader
	bw     *bufio.Writer
	reused bool
	idleAt time.Time
}

// interrupt ends a blocked read or write on the connection: its exchange's context is done.
func (pc *h1Conn) interrupt() { _ = pc.c.SetDeadline(time.Unix(1, 0)) }

// close closes the connection.
func (pc *h1Conn) close() {
	_ = pc.c.Close()
	pc.end()
}

// Tuning of the upstream connection pools.
const (
	// IdlePerHost is how many idle HTTP/1.1 connections are kept per endpoint.
	IdlePerHost = 64
	// IdleTimeout closes a pooled connection idle for this long.
	IdleTimeout = 60 * time.Second
)

// Idempotent reports whether req may be repeated: GET, HEAD, OPTIONS, PUT, DELETE, TRACE, or
// a request with an Idempotency-Key header.
func Idempotent(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
		return true
	}
	return req.Header.Get("Idempotency-Key") != ""
}

// Buffer sizes of upstream connections: a request's headers with a small body fit in one write.
const (
	h1ReadBuffer  = 4 << 10
	h1WriteBuffer = 8 << 10
)

func NewPool(dial func(ctx context.Context) (net.Conn, error), fallback func() *http.Transport) *Pool {
	return &Pool{dial: dial, fallback: fallback, maxIdle: IdlePerHost, idleFor: IdleTimeout, now: time.Now}
}

// errStaleConn is a kept-alive connection that ended while it was idle (connGone): writing
// the request failed, or (idempotent requests only, as in net/http) the connection ended
// before any byte of a response. The request goes again on another connection.
var errStaleConn = errors.New("kept-alive upstream connection closed by the endpoint")

// RoundTrip sends req and returns the response whose body, read to its end, gives the
// connection back to the pool.
func (p *Pool) RoundTrip(req *http.Request) (*http.Response, error) {
	if !inline(req) {
		return p.transport().RoundTrip(req)
	}
	for {
		pc, err := p.get(req.Context())
		if err != nil {
			return nil, err
		}
		resp, err := p.exchange(pc, req)
		if !errors.Is(err, errStaleConn) || req.Context().Err() != nil {
			return resp, err
		}
		if req.GetBody != nil { // the first write consumed the body
			again := *req
			if again.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
			req = &again
		}
		// and again, on a new connection if no other is idle: a fresh one is never stale
	}
}

// inline reports whether req can be written whole before its response is read.
func inline(req *http.Request) bool {
	if req.Header.Get("Expect") != "" || req.Header.Get("Upgrade") != "" {
		return false
	}
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// exchange writes req on pc and reads the response head. The connection's deadline follows
// the request's context, so a per-try timeout or a client that leaves ends a blocked read or
// write.
func (p *Pool) exchange(pc *h1Conn, req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	stop := watchContext(ctx, pc)
	fail := func(err error) (*http.Response, error) {
		stop.stop()
		pc.close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("upstream request: %w", causeOf(ctx))
		}
		return nil, err
	}
	wrote, err := writeRequest(pc.bw, req)
	if !wrote {
		err = req.Write(pc.bw)
	}
	if err == nil {
		err = pc.bw.Flush()
	}
	if err != nil {
		if pc.reused && connGone(err) {
			return fail(errStaleConn) // nothing reached a live endpoint
		}
		return fail(fmt.Errorf("failed to write request upstream: %w", err))
	}
	if _, err := pc.br.Peek(1); err != nil {
		if pc.reused && connGone(err) && Idempotent(req) {
			return fail(errStaleConn) // closed while idle, as far as can be told
		}
		return fail(fmt.Errorf("failed to read response from upstream: %w", err))
	}
	for {
		resp, err := http.ReadResponse(pc.br, req)
		if err != nil {
			return fail(fmt.Errorf("failed to read response from upstream: %w", err))
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 {
			continue // 100 Continue, 103 Early Hints: the final response follows
		}
		reuse := !resp.Close && !req.Close && resp.ProtoAtLeast(1, 1)
		if resp.Body == http.NoBody || resp.ContentLength == 0 {
			p.done(pc, stop, reuse)
			resp.Body = http.NoBody
			return resp, nil
		}
		resp.Body = &h1Body{rc: resp.Body, pc: pc, pool: p, stop: stop, reuse: reuse}
		return resp, nil
	}
}

// ClosedByPeer reports the errors of a connection the endpoint closed: end of stream, reset,
// broken pipe.
func ClosedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// connGone reports the errors of a connection that has ended: the endpoint closed it
// (ClosedByPeer), or what carries it did. A tunnel's connection is gone when the multiplexed
// connection under it is closed or lost: every tunnel on it ends at once, and the kept-alive
// connections they carried sit idle in the pools of every endpoint behind that peer until
// used; writing to one fails with io.ErrClosedPipe (an HTTP/2 tunnel whose stream the transport
// aborted) or net.ErrClosed (a connection closed on this side). Errors of req.Write that are no
// connection's (an invalid header) are none of these, so a bad request cannot make the pool
// discard its idle connections one after another.
func connGone(err error) bool {
	return ClosedByPeer(err) || errors.Is(err, io.ErrClosedPipe) || errors.Is(err, net.ErrClosed)
}

// done ends pc's exchange: it goes back to the pool when reuse, else it is closed.
func (p *Pool) done(pc *h1Conn, stop ctxWatch, reuse bool) {
	if !stop.stop() {
		reuse = false // the context ended: the deadline may be set
	}
	if !reuse {
		pc.close()
		return
	}
	pc.reused, pc.idleAt = true, p.now()
	p.mu.Lock()
	if p.closed || len(p.idle) >= p.maxIdle {
		p.mu.Unlock()
		pc.close()
		return
	}
	p.idle = append(p.idle, pc)
	p.mu.Unlock()
}

// get returns the most recently used idle connection, closing those idle too long, or dials.
func (p *Pool) get(ctx context.Context) (*h1Conn, error) {
	now := p.now()
	p.mu.Lock()
	for len(p.idle) > 0 {
		pc := p.idle[len(p.idle)-1]
		p.idle[len(p.idle)-1] = nil
		p.idle = p.idle[:len(p.idle)-1]
		if now.Sub(pc.idleAt) < p.idleFor {
			p.mu.Unlock()
			return pc, nil
		}
		pc.close()
	}
	p.mu.Unlock()
	// The connection outlives the request that opens it, and a tunnel lives as long as the
	// context it was opened with: dial with one that only this request's end during the dial
	// cancels, and that ends when the connection is closed.
	life, end := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, end)
	c, err := p.dial(life)
	if !stop() {
		err = errors.Join(err, causeOf(ctx))
	}
	if err != nil {
		end()
		if c != nil {
			_ = c.Close()
		}
		return nil, err
	}
	return &h1Conn{c: c, end: end, br: bufio.NewReaderSize(c, h1ReadBuffer), bw: bufio.NewWriterSize(c, h1WriteBuffer)}, nil
}

// transport returns the endpoint's net/http Transport for requests that cannot go inline.
func (p *Pool) transport() *http.Transport {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.slow == nil {
		p.slow = p.fallback()
	}
	return p.slow
}

// CloseIdleConnections closes the idle connections, here and in the fallback Transport.
func (p *Pool) CloseIdleConnections() {
	p.mu.Lock()
	idle, slow := p.idle, p.slow
	p.idle = nil
	p.mu.Unlock()
	for _, pc := range idle {
		pc.close()
	}
	if slow != nil {
		slow.CloseIdleConnections()
	}
}

// close closes the idle connections and every connection given back later: the endpoint has
// left the routes; requests in flight finish.
func (p *Pool) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.CloseIdleConnections()
}

// h1Body is a response body read from a pooled connection: read to its end, it gives the
// connection back; closed early, it closes the connection (what is left of the body is not
// worth reading for a connection).
type h1Body struct {
	rc    io.ReadCloser
	pc    *h1Conn
	pool  *Pool
	stop  ctxWatch
	reuse bool
	once  sync.Once
	eof   bool
}

func (b *h1Body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.eof = true
		b.release()
	}
	return n, err
}

func (b *h1Body) Close() error {
	b.release()
	return nil
}

func (b *h1Body) release() {
	b.once.Do(func() { b.pool.done(b.pc, b.stop, b.reuse && b.eof) })
}
