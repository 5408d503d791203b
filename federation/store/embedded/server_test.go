package embedded

import (
	"errors"
	"log/slog"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// testLogger logs only errors, to stderr: etcd goroutines may log after a test has ended, when
// t.Log would panic.
var testLogger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))

// loopbackURL is scheme://127.0.0.1:0: etcd listens on a port the kernel picks, and clients
// read it from Endpoints (a port found free and listened on later can be taken in between).
func loopbackURL(scheme string) string {
	return scheme + "://127.0.0.1:0"
}

func connect(t *testing.T, srv *Server) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: srv.Endpoints(), DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("failed to connect: %v", err)
	}
	return c
}

func TestStartReusesDataDir(t *testing.T) {
	cfg := Config{DataDir: t.TempDir(), ClientURL: loopbackURL("http"), PeerURL: loopbackURL("http"), Logger: testLogger}
	srv, err := Start(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	c := connect(t, srv)
	put, err := c.Put(t.Context(), "/meshfed/v1/clusters/east", "{}")
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	_ = c.Close() // no open streams: the server stops at once
	srv.Close()

	started := time.Now()
	srv, err = Start(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Start again: %v", err)
	}
	t.Cleanup(srv.Close)
	t.Logf("restart on existing data dir took %s", time.Since(started))
	c = connect(t, srv)
	t.Cleanup(func() { _ = c.Close() })
	got, err := c.Get(t.Context(), "/meshfed/v1/clusters/east")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.Header.Revision < put.Header.Revision {
		t.Fatalf("revision after restart %d, before %d", got.Header.Revision, put.Header.Revision)
	}
	if len(got.Kvs) != 1 {
		t.Fatal("record lost across restart")
	}
}

// BenchmarkRestart measures what a restarted hub waits for before it can write: its embedded
// etcd starting on existing data until it serves clients (the stop is not timed).
func BenchmarkRestart(b *testing.B) {
	cfg := Config{DataDir: b.TempDir(), ClientURL: loopbackURL("http"), PeerURL: loopbackURL("http"), Logger: testLogger}
	srv, err := Start(b.Context(), cfg)
	if err != nil {
		b.Fatalf("Start: %v", err)
	}
	for b.Loop() {
		b.StopTimer()
		srv.Close()
		b.StartTimer()
		if srv, err = Start(b.Context(), cfg); err != nil {
			b.Fatalf("Start again: %v", err)
		}
	}
	b.StopTimer()
	srv.Close()
}

// BenchmarkIdle measures what a running store costs while nothing uses it: the process's CPU
// time per second of wall time (cpu-ms/s), mostly raft's ticks. Each iteration is one second.
func BenchmarkIdle(b *testing.B) {
	cfg := Config{DataDir: b.TempDir(), ClientURL: loopbackURL("http"), PeerURL: loopbackURL("http"), Logger: testLogger}
	srv, err := Start(b.Context(), cfg)
	if err != nil {
		b.Fatalf("Start: %v", err)
	}
	defer srv.Close()
	time.Sleep(time.Second) // past the start
	began, cpu := time.Now(), processCPU(b)
	for b.Loop() {
		time.Sleep(time.Second)
	}
	b.ReportMetric(float64((processCPU(b)-cpu).Milliseconds())/time.Since(began).Seconds(), "cpu-ms/s")
}

// processCPU is the user and system CPU time this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestStartNeedsDataDir(t *testing.T) {
	if _, err := Start(t.Context(), Config{}); !errors.Is(err, errNoDataDir) {
		t.Fatalf("Start without a data dir = %v, want %v", err, errNoDataDir)
	}
}

func TestCompactionRetention(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, DefaultCompactionRetention.String()},
		{-time.Second, "0"},
		{10 * time.Minute, "10m0s"},
	}
	for _, tt := range tests {
		if got := compactionRetention(tt.in); got != tt.want {
			t.Errorf("compactionRetention(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStartRefusesTLSMismatch(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"TLS files on http", Config{ClientURL: "http://127.0.0.1:1", CertFile: "tls.crt", KeyFile: "tls.key"}},
		{"client CA on http", Config{ClientURL: "http://127.0.0.1:1", ClientCAFile: "ca.crt"}},
		{"https without TLS files", Config{ClientURL: "https://127.0.0.1:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.DataDir = t.TempDir()
			if _, err := tt.cfg.etcdConfig(new(atomic.Bool)); !errors.Is(err, errTLSMismatch) {
				t.Fatalf("etcdConfig = %v, want errTLSMismatch", err)
			}
		})
	}
}

// TestCloseWithin: with a watch open, etcd waits up to its request timeout (7 s) for the stream
// to end before it cuts it; CloseWithin returns after its bound and the server still stops.
// Without open streams it stops within the bound.
func TestCloseWithin(t *testing.T) {
	cfg := Config{DataDir: t.TempDir(), ClientURL: loopbackURL("http"), PeerURL: loopbackURL("http"), Logger: testLogger}
	srv, err := Start(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	c := connect(t, srv)
	defer c.Close()
	wch := c.Watch(clientv3.WithRequireLeader(t.Context()), "/meshfed/v1/", clientv3.WithPrefix(), clientv3.WithCreatedNotify())
	if resp := <-wch; !resp.Created {
		t.Fatalf("watch not created: %+v", resp)
	}
	began := time.Now()
	if srv.CloseWithin(300 * time.Millisecond) {
		t.Fatalf("stopped within 300ms with a watch open, after %s: etcd no longer waits for streams, CloseWithin is not needed", time.Since(began))
	}
	// A CloseWithin that waited for Close would return after etcd's request timeout: 5 s plus
	// two election timeouts (5.2 s here). The margin under that is for a loaded machine, which
	// can delay the wake-up after the 300 ms by seconds.
	if d := time.Since(began); d > 4*time.Second {
		t.Errorf("CloseWithin(300ms) returned after %s", d)
	}
	select {
	case <-srv.closed:
		t.Logf("the server stopped %s after the close began", time.Since(began).Round(time.Millisecond))
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not stop in the background")
	}

	srv, err = Start(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Start again: %v", err)
	}
	if !srv.CloseWithin(5 * time.Second) {
		t.Error("without open streams the server did not stop within 5s")
	}
}
