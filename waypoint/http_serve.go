package waypoint

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"

	"github.com/meshfed/meshfed/waypoint/http1"
)

// serveHTTP serves one client connection of a per-request route until it is closed: HTTP/1.1
// by http1.Server, h2c (prior knowledge) by net/http's server; both proxy every request.
func (o *Outbound) serveHTTP(ctx context.Context, c net.Conn, port int32) {
	s := http1.Server{
		Handler:       http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { o.proxyRequest(w, req, port, true) }),
		H2C:           func(c net.Conn) { o.serveH2C(ctx, c, port) },
		Timers:        o.timers,
		OnDrain:       o.onDrain,
		Log:           o.log,
		HeaderTimeout: clientHeaderTimeout,
		IdleTimeout:   clientIdleTimeout,
		LingerDelay:   o.lingerDelay,
	}
	s.ServeConn(ctx, c)
}

// serveH2C serves an HTTP/2 prior-knowledge connection with net/http's server.
func (o *Outbound) serveH2C(ctx context.Context, c net.Conn, port int32) {
	l := newConnListener(c)
	closed, closeOnce := make(chan struct{}), sync.Once{}
	var handlers sync.WaitGroup
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			handlers.Add(1)
			defer handlers.Done()
			o.proxyRequest(w, req, port, false) // net/http's request: not to be rewritten
		}),
		Protocols:         clientProtocols(),
		ReadHeaderTimeout: clientHeaderTimeout,
		IdleTimeout:       clientIdleTimeout,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateClosed || s == http.StateHijacked {
				_ = l.Close()
				closeOnce.Do(func() { close(closed) })
			}
		},
		ErrorLog: slog.NewLogLogger(o.log.Handler(), slog.LevelDebug),
	}
	defer o.onDrain(func() {
		// Shutdown sends GOAWAY, lets the streams in flight finish and closes the
		// connection; drain's own deadline bounds the wait.
		go func() { _ = srv.Shutdown(context.WithoutCancel(ctx)) }()
	})()
	_ = srv.Serve(l) // returns once the connection has closed, or at Shutdown
	<-closed         // after Shutdown, once the streams in flight have been answered
	handlers.Wait()
}
