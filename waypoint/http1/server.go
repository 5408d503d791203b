package http1

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshfed/meshfed/waypoint/internal/coarse"
)

// Bounds of the client side of an HTTP/1.1 connection.
const (
	// clientMaxHeaderBytes bounds a request's line and headers, as http.Server's default.
	clientMaxHeaderBytes = http.DefaultMaxHeaderBytes
	// WatchDelay is how long a request waits for its response before the server starts
	// watching its client connection for a close (which cancels the request).
	WatchDelay = 50 * time.Millisecond
	// clientDrainLimit is how much of a request body the handler left unread is discarded so
	// that the connection can carry the next request; beyond it the connection is closed.
	clientDrainLimit = 256 << 10
)

// h2Preface is how an HTTP/2 connection with prior knowledge starts; no HTTP/1.1 method is PRI.
const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// Server serves the client side of connections that carry HTTP/1.1 requests one after the
// other: it reads each request, has Handler answer it, writes the response, and keeps the
// connection for the next request when it can. A connection that starts with HTTP/2's
// preface goes to H2C instead.
type Server struct {
	// Handler answers every request.
	Handler http.Handler
	// H2C serves a connection that starts with HTTP/2's prior-knowledge preface; the
	// connection it gets replays the bytes already read. Nil closes such a connection.
	H2C func(net.Conn)
	// Timers carry the watch of a client connection while its request waits for an answer.
	Timers *coarse.Timers
	// OnDrain, when set, registers a function to run when draining starts and returns what
	// unregisters it: an idle connection is then closed, a busy one after its response.
	OnDrain func(func()) (remove func())
	// Log receives the handler's panics, with the connection's local address.
	Log *slog.Logger
	// HeaderTimeout bounds how long a client may take to send a request's headers;
	// IdleTimeout closes a connection idle between requests for this long.
	HeaderTimeout, IdleTimeout time.Duration
	// LingerDelay is how long a connection closed with unread client data waits after its
	// answer; zero is DefaultLingerDelay.
	LingerDelay time.Duration
}

// ServeConn serves c until it is closed, idle too long, or drained; the caller closes c.
func (s *Server) ServeConn(ctx context.Context, c net.Conn) {
	cr := &clientReader{c: c, left: -1}
	br := bufio.NewReaderSize(cr, 4<<10)
	_ = c.SetReadDeadline(time.Now().Add(s.HeaderTimeout))
	head, err := br.Peek(3)
	_ = c.SetReadDeadline(time.Time{})
	if err != nil {
		return
	}
	if string(head) == h2Preface[:3] {
		if s.H2C != nil {
			s.H2C(&bufferedConn{Conn: c, r: br})
		}
		return
	}
	s.serveHTTP1(ctx, c, cr, br)
}

// serveHTTP1 reads requests from c one after the other and answers each with the Handler, its
// response written by h1Response: what http.Server does for HTTP/1.1, without its per-request
// goroutine and read-ahead.
func (s *Server) serveHTTP1(ctx context.Context, c net.Conn, cr *clientReader, br *bufio.Reader) {
	bw := bufio.NewWriterSize(c, 4<<10)
	remote := c.RemoteAddr().String()
	// The connection's context is the parent of its requests' (watched by each in a slot,
	// where a standard context would take a map entry per request), and the only one that
	// watches ctx.
	var conn Context
	conn.Init(ctx, nil, nil)
	defer conn.Cancel(nil)
	idle := &h1Idle{c: c}
	if s.OnDrain != nil {
		defer s.OnDrain(idle.drain)()
	}
	for {
		_ = c.SetReadDeadline(time.Now().Add(s.IdleTimeout))
		if !idle.wait() {
			return // draining: no request has begun on this connection
		}
		if _, err := br.Peek(1); err != nil {
			return // closed, idle too long, or woken by drain
		}
		idle.busy()
		_ = c.SetReadDeadline(time.Now().Add(s.HeaderTimeout))
		cr.limit(clientMaxHeaderBytes + br.Buffered())
		req, err := http.ReadRequest(br)
		tooLarge := cr.exhausted()
		cr.limit(-1)
		_ = c.SetReadDeadline(time.Time{})
		if err != nil {
			if badRequest(bw, err, tooLarge) {
				s.lingerClose(c)
			}
			return
		}
		if !s.serveOne(&conn, c, cr, br, bw, req, remote, idle) {
			return
		}
	}
}

// serveOne answers one request and writes its response; it reports whether the connection
// can carry the next request.
func (s *Server) serveOne(conn *Context, c net.Conn, cr *clientReader, br *bufio.Reader, bw *bufio.Writer, req *http.Request, remote string, idle *h1Idle) (keep bool) {
	rctx := NewContext(conn, nil, nil)
	defer rctx.Cancel(nil)
	// WithContext inlined, its copy does not escape: req itself takes the context.
	*req = *req.WithContext(rctx)
	req.RemoteAddr = remote
	w := newH1Response(c, br, bw, req)
	w.idle = idle
	if req.Host == "" && req.ProtoAtLeast(1, 1) {
		// RFC 9112 §3.2, as http.Server (which also accepts an empty Host; ReadRequest
		// removes the header, so the two look alike here)
		w.Header().Set("Connection", "close")
		http.Error(w, "missing required Host header", http.StatusBadRequest)
		_ = w.finish()
		return false
	}
	if req.Host == "" {
		req.Host = c.LocalAddr().String()
	}
	if e := req.Header.Get("Expect"); e != "" {
		if !strings.EqualFold(e, "100-continue") || !req.ProtoAtLeast(1, 1) {
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusExpectationFailed)
			_ = w.finish()
			return false
		}
		req.Body = &continueBody{ReadCloser: req.Body, w: w}
	}
	body := &trackedBody{ReadCloser: req.Body}
	body.eof.Store(req.Body == http.NoBody)
	req.Body = body
	watch := cr.watchAfter(s.Timers, WatchDelay, br, body, rctx)
	w.watch = watch
	defer func() {
		if p := recover(); p != nil {
			// http.ErrAbortHandler is ReverseProxy's way to cut a response short; anything else
			// is a bug. Either way the connection ends here.
			if err, ok := p.(error); !ok || !errors.Is(err, http.ErrAbortHandler) {
				s.Log.Error("panic serving a request", "listener", c.LocalAddr().String(), "panic", p)
			}
			keep = false
			watch.stop()
		}
	}()
	s.Handler.ServeHTTP(w, req)
	watch.stop()
	if w.hijacked {
		return false
	}
	if err := w.finish(); err != nil || w.closeAfter || w.reqClose || idle.isDraining() {
		return false
	}
	return body.drain(clientDrainLimit)
}

// badRequest answers a request that could not be read, unless the client simply left; it
// reports whether it answered.
func badRequest(bw *bufio.Writer, err error, tooLarge bool) bool {
	var ne net.Error
	if !tooLarge && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.As(err, &ne) && ne.Timeout()) {
		return false
	}
	code, msg := http.StatusBadRequest, "malformed request: "+err.Error()
	if tooLarge {
		code, msg = http.StatusRequestHeaderFieldsTooLarge, "request headers too large"
	}
	_, _ = bw.Write(appendStatusLine(nil, code))
	_, _ = fmt.Fprintf(bw, "Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n%s\n", msg)
	return bw.Flush() == nil
}

// DefaultLingerDelay is how long a connection closed with unread client data waits after its
// last response, so that the client reads the response before the reset that closing causes.
const DefaultLingerDelay = 500 * time.Millisecond

// lingerClose half-closes c and waits LingerDelay (as http.Server does); the caller closes.
func (s *Server) lingerClose(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		d := s.LingerDelay
		if d == 0 {
			d = DefaultLingerDelay
		}
		time.Sleep(d)
	}
}

// clientReader is what a client connection's bufio.Reader reads from: the connection, with
// a byte limit while a request's headers are read, and the byte a connection watcher may
// have read ahead.
type clientReader struct {
	c       net.Conn
	left    int // bytes allowed before the limit, -1 for none
	hitMax  bool
	pending []byte // read ahead by a watcher; returned first
}

func (r *clientReader) limit(n int) { r.left, r.hitMax = n, false }

func (r *clientReader) exhausted() bool { return r.hitMax }

func (r *clientReader) Read(p []byte) (int, error) {
	if len(r.pending) > 0 {
		n := copy(p, r.pending)
		r.pending = r.pending[n:]
		return n, nil
	}
	if r.left == 0 {
		r.hitMax = true
		return 0, errors.New("request headers too large")
	}
	if r.left > 0 && len(p) > r.left {
		p = p[:r.left]
	}
	n, err := r.c.Read(p)
	if r.left > 0 {
		r.left -= n
	}
	return n, err
}

// clientWatch notices a client that closes its connection while its request waits for an
// upstream answer, and cancels the request, as http.Server's background read does; it only
// starts after WatchDelay, so that fast requests do not pay for it.
type clientWatch struct {
	r       *clientReader
	br      *bufio.Reader
	body    *trackedBody
	ctx     *Context // the request's, canceled when the client leaves
	timer   coarse.Timer
	mu      sync.Mutex
	stopped bool
	running bool
	done    chan struct{} // made when the watch starts reading
}

// watchAfter starts watching r's connection after d (on timers: up to a tick later), once
// body has been read to its end and nothing of a next request is buffered (a pipelined
// request is read after this one).
func (r *clientReader) watchAfter(timers *coarse.Timers, d time.Duration, br *bufio.Reader, body *trackedBody, ctx *Context) *clientWatch {
	w := &clientWatch{r: r, br: br, body: body, ctx: ctx}
	timers.Start(&w.timer, d, w)
	return w
}

// Fire starts the watch, on the timers' goroutine.
func (w *clientWatch) Fire() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped || !w.body.eof.Load() || w.br.Buffered() > 0 || len(w.r.pending) > 0 {
		return
	}
	w.running = true
	w.done = make(chan struct{})
	go w.read()
}

func (w *clientWatch) read() {
	defer close(w.done)
	var b [1]byte
	n, err := w.r.c.Read(b[:])
	if n == 1 {
		w.r.pending = append(w.r.pending, b[0])
		return
	}
	var ne net.Error
	if err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
		w.ctx.Cancel(nil) // the client closed: the request has no one to answer
	}
}

// stop ends the watch before the response is written or the next request is read: a
// running read is interrupted and waited for.
func (w *clientWatch) stop() {
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return
	}
	w.stopped = true
	w.timer.Stop()
	running, done := w.running, w.done
	w.mu.Unlock()
	if running {
		_ = w.r.c.SetReadDeadline(time.Unix(1, 0))
		<-done
		_ = w.r.c.SetReadDeadline(time.Time{})
	}
}

// trackedBody knows whether a request body was read to its end.
type trackedBody struct {
	io.ReadCloser
	eof atomic.Bool // read by the watch's timer while a transport may read the body
}

func (b *trackedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.eof.Store(true)
	}
	return n, err
}

// drain reads what is left of the body, up to limit bytes; it reports whether the body ended.
func (b *trackedBody) drain(limit int64) bool {
	if b.eof.Load() {
		return true
	}
	n, err := io.CopyN(io.Discard, b, limit+1)
	return n <= limit && (err == nil || errors.Is(err, io.EOF)) && b.eof.Load()
}

// continueBody sends 100 Continue before its first read, for a client that waits for it.
type continueBody struct {
	io.ReadCloser
	w    *h1Response
	sent bool
}

func (b *continueBody) Read(p []byte) (int, error) {
	if !b.sent {
		b.sent = true
		if !b.w.wroteHeader {
			if _, err := io.WriteString(b.w.bw, "HTTP/1.1 100 Continue\r\n\r\n"); err == nil {
				_ = b.w.bw.Flush()
			}
		}
	}
	return b.ReadCloser.Read(p)
}

// bufferedConn is a connection whose first bytes were already read into r.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
