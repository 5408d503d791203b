package store

import (
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/meshfed/meshfed/federation/store/embedded"
)

// testLogger logs only errors, to stderr: etcd goroutines may log after a test has ended, when
// t.Log would panic.
var testLogger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))

// testEtcd is an embedded etcd of one test, with the config to restart it on the same data dir
// and ports.
type testEtcd struct {
	cfg embedded.Config
	srv *embedded.Server
}

// loopbackURL is scheme://127.0.0.1:0: etcd listens on a port the kernel picks, and clients
// read the bound address (a port found free and listened on later can be taken in between).
func loopbackURL(scheme string) string {
	return scheme + "://127.0.0.1:0"
}

// startTestEtcd starts an embedded etcd in a temporary directory on loopback ports the kernel
// picks when it listens (a port found free and listened on later can be taken in between by
// another process on a shared machine); it is stopped when the test ends.
func startTestEtcd(t testing.TB) *testEtcd {
	t.Helper()
	te := &testEtcd{cfg: embedded.Config{
		DataDir:   t.TempDir(),
		ClientURL: loopbackURL("http"),
		PeerURL:   loopbackURL("http"),
		Logger:    testLogger,
	}}
	te.start(t)
	t.Cleanup(te.stop)
	return te
}

func (te *testEtcd) start(t testing.TB) {
	t.Helper()
	ctx := t.Context()
	srv, err := embedded.Start(ctx, te.cfg)
	if err != nil {
		t.Fatalf("embedded.Start: %v", err)
	}
	te.srv = srv
	// A restart serves clients where they connected before.
	te.cfg.ClientURL = srv.Endpoints()[0]
}

func (te *testEtcd) stop() {
	if te.srv != nil {
		te.srv.Close()
		te.srv = nil
	}
}

// connect opens a client to the test etcd, closed when the test ends.
func (te *testEtcd) connect(t testing.TB) *Client {
	t.Helper()
	c, err := Connect(t.Context(), ClientConfig{Endpoints: te.srv.Endpoints(), Logger: testLogger, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// leader returns a writer on its own client that has won the election.
func (te *testEtcd) leader(t testing.TB, identity string) *Writer {
	t.Helper()
	w := NewWriter(te.connect(t), WriterOptions{Identity: identity, SessionTTL: 5, Logger: testLogger})
	if err := w.Campaign(t.Context()); err != nil {
		t.Fatalf("Campaign %s: %v", identity, err)
	}
	return w
}
