package framework_test

import (
	"log/slog"
	"os"
	"testing"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// TestMain routes controller-runtime's (envtest's) logs to slog at Warn, so
// they are neither lost nor noisy.
func TestMain(m *testing.M) {
	handler := slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})
	ctrllog.SetLogger(logr.FromSlogHandler(handler))
	os.Exit(m.Run())
}
