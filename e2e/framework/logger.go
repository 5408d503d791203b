package framework

import (
	"log/slog"
	"os"
	"sync"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

var logOnce sync.Once

// routeLogs gives controller-runtime a logger (warnings and errors to stderr) before a test
// builds its first client. Without one, controller-runtime prints a "log.SetLogger(...) was
// never called" stack trace into the test's output 30 s after start. The first logger set in a
// process wins, so a test that sets its own before calling Start keeps it.
func routeLogs() {
	logOnce.Do(func() {
		ctrllog.SetLogger(logr.FromSlogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	})
}
