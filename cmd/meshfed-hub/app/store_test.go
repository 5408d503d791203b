package app

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestStoreOpenFails is the regression test of a hub whose store failed to open (or whose
// start was cancelled while etcd was starting): its readiness check and its runnable report
// the failure, nothing calls departed, and shutting it down does not panic (it used to call
// the nil close function that the failed opening returned).
func TestStoreOpenFails(t *testing.T) {
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	o := Options{
		DataDir: notADir, EmbeddedClientURL: "http://" + freeAddr(t), EmbeddedPeerURL: "http://" + freeAddr(t),
		LeaseDuration: 15 * time.Second, EmbeddedInsecure: true,
	}
	departed := 0
	st := openStore(t.Context(), nil, o, "hub-0_1", func(...string) { departed++ }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, _, err := st.wait(t.Context()); err == nil {
		t.Fatal("the store opened on a data directory that is a file")
	}
	if err := st.watch(t.Context()); err == nil {
		t.Error("the store's runnable did not report the failed opening")
	}
	if err := st.check(nil); err == nil {
		t.Error("ready without a store")
	}
	if departed != 0 {
		t.Errorf("departed called %d times without a store", departed)
	}
	st.shutdown()
}
