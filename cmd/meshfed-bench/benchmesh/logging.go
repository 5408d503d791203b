package benchmesh

import (
	"context"
	"log/slog"
)

// quiet passes only records at or above min: etcd warns about settings that are fine for a
// throwaway local store.
type quiet struct {
	slog.Handler
	min slog.Level
}

// QuietLogger is log passing only records at or above min.
func QuietLogger(log *slog.Logger, min slog.Level) *slog.Logger {
	return slog.New(quiet{Handler: log.Handler(), min: min})
}

// Enabled implements slog.Handler.
func (q quiet) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= q.min && q.Handler.Enabled(ctx, l)
}

// WithAttrs implements slog.Handler, staying quiet.
func (q quiet) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quiet{Handler: q.Handler.WithAttrs(attrs), min: q.min}
}

// WithGroup implements slog.Handler, staying quiet.
func (q quiet) WithGroup(name string) slog.Handler {
	return quiet{Handler: q.Handler.WithGroup(name), min: q.min}
}
