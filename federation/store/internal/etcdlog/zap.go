package etcdlog

import (
	"context"
	"log/slog"
	"sync/atomic"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// minLevel is the lowest etcd log level forwarded: etcd's info logs are chatty and of no use
// to a meshfed operator, its warnings and errors are.
const minLevel = zapcore.WarnLevel

// slogCore is a zapcore.Core that forwards etcd's zap entries to a slog.Logger, so that etcd
// (client and embedded server) logs through the same handler as the rest of meshfed.
type slogCore struct {
	log    *slog.Logger
	fields []zapcore.Field
	// closing, when set and true, demotes every entry to Debug: etcd reports its own orderly
	// shutdown (listeners closed, servers stopped) as errors.
	closing *atomic.Bool
}

// NewLogger returns a zap.Logger writing to log (slog.Default() if nil) under component=etcd.
// closing may be nil.
func NewLogger(log *slog.Logger, closing *atomic.Bool) *zap.Logger {
	if log == nil {
		log = slog.Default()
	}
	return zap.New(&slogCore{log: log.With("component", "etcd"), closing: closing})
}

// Enabled implements zapcore.LevelEnabler.
func (c *slogCore) Enabled(l zapcore.Level) bool { return l >= minLevel }

// With implements zapcore.Core.
func (c *slogCore) With(fields []zapcore.Field) zapcore.Core {
	all := append(append([]zapcore.Field{}, c.fields...), fields...)
	return &slogCore{log: c.log, fields: all, closing: c.closing}
}

// Check implements zapcore.Core.
func (c *slogCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

// Write implements zapcore.Core.
func (c *slogCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range append(append([]zapcore.Field{}, c.fields...), fields...) {
		f.AddTo(enc)
	}
	attrs := make([]slog.Attr, 0, len(enc.Fields)+1)
	if e.LoggerName != "" {
		attrs = append(attrs, slog.String("logger", e.LoggerName))
	}
	for k, v := range enc.Fields {
		attrs = append(attrs, slog.Any(k, v))
	}
	level := slogLevel(e.Level)
	if c.closing != nil && c.closing.Load() {
		level = slog.LevelDebug
	}
	c.log.LogAttrs(context.Background(), level, e.Message, attrs...)
	return nil
}

// Sync implements zapcore.Core.
func (c *slogCore) Sync() error { return nil }

func slogLevel(l zapcore.Level) slog.Level {
	switch {
	case l >= zapcore.ErrorLevel:
		return slog.LevelError
	case l == zapcore.WarnLevel:
		return slog.LevelWarn
	case l == zapcore.InfoLevel:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}
