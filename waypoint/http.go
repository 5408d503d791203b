package waypoint

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
	"time"

	"github.com/meshfed/meshfed/internal/quietconn"
	"github.com/meshfed/meshfed/waypoint/table"
)

// Timeouts of the client side of per-request routes.
const (
	// clientHeaderTimeout bounds how long a client may take to send a request's headers.
	clientHeaderTimeout = 30 * time.Second
	// clientIdleTimeout closes a client connection idle between requests for this long.
	clientIdleTimeout = 5 * time.Minute
)

// Response headers the waypoint adds.
const (
	// HeaderCluster names the cluster whose endpoint answered; on a reply of the waypoint
	// itself, the waypoint's own cluster.
	HeaderCluster = "X-Meshfed-Cluster"
	// HeaderLocalReply is set, with the reason, on replies the waypoint makes itself.
	HeaderLocalReply = "X-Meshfed-Local-Reply"
)

// handle serves one accepted client connection by the protocol of its route: per request
// for HTTP routes, spliced to one endpoint otherwise. A connection keeps the protocol it
// started with.
func (o *Outbound) handle(ctx context.Context, c net.Conn, port int32) {
	if r := o.table.View().Route(port); r != nil && r.Protocol.PerRequest() {
		o.serveHTTP(ctx, quietconn.New(c), port)
		return
	}
	o.serve(ctx, c, port)
}

// clientProtocols are what per-request listeners speak: HTTP/1.1 and HTTP/2 with prior
// knowledge (h2c upgrade from HTTP/1.1 is not offered, as in net/http).
func clientProtocols() *http.Protocols {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return p
}

// exchange is what the proxy learns about one client request while serving it.
type exchange struct {
	port    int32
	route   *table.Route // the route of the first try; nil when there was none
	cluster string       // the cluster whose endpoint answered; noCluster when none did
}

type exchangeKey struct{}

// proxyRequest proxies one client request and records it in the metrics. owned says that the
// handler may rewrite req in place (http1.Server's requests): forward then serves it when it
// can, and o.proxy otherwise.
func (o *Outbound) proxyRequest(w http.ResponseWriter, req *http.Request, port int32, owned bool) {
	start := time.Now()
	// The exchange and the recorder in one allocation.
	call := &struct {
		ex  exchange
		rec statusRecorder
	}{ex: exchange{port: port, cluster: noCluster}, rec: statusRecorder{ResponseWriter: w}}
	ex, rec := &call.ex, &call.rec
	if owned && o.forwardable(req, port) {
		o.forward(rec, req, ex)
	} else {
		o.proxy.ServeHTTP(rec, req.WithContext(context.WithValue(req.Context(), exchangeKey{}, ex)))
	}
	code := rec.code
	if code == 0 || req.Context().Err() != nil && ex.cluster == noCluster {
		code = statusClientClosed
	}
	o.metrics.request(ex.route, ex.cluster, code, time.Since(start))
}

// statusClientClosed is the code recorded for a request whose client went away before any
// response (nginx's 499); it is never sent.
const statusClientClosed = 499

// newReverseProxy builds the proxy of per-request routes: it keeps the client's Host, adds
// X-Forwarded-*, and hands every request to the balancer, which picks, retries and sets
// HeaderCluster. Responses without a length are flushed as they come (gRPC streams).
func (o *Outbound) newReverseProxy() *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = pr.In.Host // replaced by the endpoint of each try
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
		},
		Transport:    balancer{o: o},
		BufferPool:   copyBuffers{},
		ErrorHandler: o.localReply,
		ErrorLog:     slog.NewLogLogger(o.log.Handler(), slog.LevelDebug),
	}
}

// localReply is o.proxy's ErrorHandler: reply, for the port of the request's exchange.
func (o *Outbound) localReply(w http.ResponseWriter, req *http.Request, err error) {
	o.reply(w, req, req.Context().Value(exchangeKey{}).(*exchange).port, err)
}

// reply answers a request to port that no endpoint answered: 504 when the last try timed
// out, 503 otherwise (no endpoint, connect failures, resets).
func (o *Outbound) reply(w http.ResponseWriter, req *http.Request, port int32, err error) {
	if req.Context().Err() != nil {
		return // the client has gone; proxyRequest records it
	}
	code, reason := http.StatusServiceUnavailable, "upstream-reset"
	var ce *connectError
	switch {
	case errors.Is(err, ErrNoEndpoint):
		reason = "no-endpoint"
	case errors.As(err, &ce):
		reason = "connect-failed"
	case errors.Is(err, errTryTimeout):
		code, reason = http.StatusGatewayTimeout, "timeout"
	}
	o.log.Debug("no endpoint answered a request", "port", port, "reason", reason, "error", err)
	w.Header().Set(HeaderCluster, o.opts.Cluster)
	w.Header().Set(HeaderLocalReply, reason)
	http.Error(w, "meshfed waypoint: "+reason+": "+err.Error(), code)
}

// statusRecorder remembers the status code written through it.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 && code >= 200 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer (flush, hijack).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// connListener is a net.Listener that accepts one connection, then blocks until closed.
type connListener struct {
	c      net.Conn
	once   sync.Once
	mu     sync.Mutex
	served bool
	done   chan struct{}
}

func newConnListener(c net.Conn) *connListener {
	return &connListener{c: c, done: make(chan struct{})}
}

func (l *connListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if !l.served {
		l.served = true
		l.mu.Unlock()
		return l.c, nil
	}
	l.mu.Unlock()
	<-l.done
	return nil, net.ErrClosed
}

func (l *connListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *connListener) Addr() net.Addr { return l.c.LocalAddr() }

// copyBuffers lends the proxy its 32 KiB copy buffers, so that a request does not allocate one.
type copyBuffers struct{}

var copyBufferPool = sync.Pool{New: func() any { return new([32 << 10]byte) }}

func (copyBuffers) Get() []byte { return copyBufferPool.Get().(*[32 << 10]byte)[:] }
func (copyBuffers) Put(b []byte) {
	if len(b) == 32<<10 {
		copyBufferPool.Put((*[32 << 10]byte)(b))
	}
}
