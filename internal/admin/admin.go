// Package admin serves a program's admin endpoints (health, readiness, metrics, debug) on their
// own listener, apart from the traffic it carries.
package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Disabled is the address that turns the admin listener off.
const Disabled = "0"

// shutdownTimeout bounds how long Serve's stop function waits for requests in flight.
const shutdownTimeout = 5 * time.Second

// Serve serves h on addr (Disabled: nothing) and returns the function that stops it. A failure
// of the server after it started is logged to log.
func Serve(addr string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	if addr == Disabled {
		return func() {}, nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("failed to listen on admin address %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin server stopped", "error", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
