package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"

	"github.com/meshfed/meshfed/federation/store/internal/etcdlog"
)

// Defaults of Config.
const (
	DefaultName                = "meshfed"
	DefaultClientURL           = "http://127.0.0.1:2379"
	DefaultPeerURL             = "http://127.0.0.1:2380"
	DefaultCompactionRetention = time.Hour
	DefaultStartTimeout        = time.Minute
)

// errNoDataDir reports a Config without a data directory.
var errNoDataDir = errors.New("no data dir")

// errTLSMismatch reports TLS files with an http client URL, or an https one without them.
var errTLSMismatch = errors.New("an https client URL and TLS files (CertFile, KeyFile) go together")

// tickMs and electionMs are the raft tick and election timeout of the single member. With no
// peers, heartbeats go nowhere and the leader can never be lost: the election timeout only
// delays a start, when the member waits for it before it elects itself and serves. etcd's
// defaults (100 ms, 1 s) made a restart on existing data take 462 ms, these 107 ms
// (BenchmarkRestart, medians of 3 alternated runs of both binaries), for 5–14 ms of CPU per second
// more while idle (ticks 10× as often: BenchmarkIdle, 2 alternated runs, 12–21 cpu-ms/s instead
// of 7–8).
// A restarted hub writes nothing before its store serves, so this was most of the propagation
// gap of a graceful restart.
const (
	tickMs     = 10
	electionMs = 100
)

// raftEntriesKept is how many applied raft entries the embedded member keeps in memory after
// each in-memory snapshot (one every 100 entries): a single member has no follower to send
// them to.
const raftEntriesKept = 100

// Config configures an etcd server running inside the hub process.
type Config struct {
	// DataDir holds the WAL and the database. Starting again on the same directory resumes the
	// same store with the same revisions.
	DataDir string
	// Name is the etcd member name; default DefaultName.
	Name string
	// ClientURL is where clients connect: https:// exactly when CertFile is set; default
	// DefaultClientURL.
	ClientURL string
	// PeerURL is the raft peer URL; a single member never receives peer traffic, but etcd binds
	// it. Default DefaultPeerURL.
	PeerURL string
	// CertFile and KeyFile serve the client URL over TLS.
	CertFile string
	KeyFile  string
	// ClientCAFile, when set, requires client certificates signed by it.
	ClientCAFile string
	// CompactionRetention is how much history etcd keeps (periodic compaction): a watcher that
	// was away longer gets a snapshot. 0 means DefaultCompactionRetention, negative disables.
	CompactionRetention time.Duration
	// StartTimeout bounds Start; 0 means DefaultStartTimeout.
	StartTimeout time.Duration
	// Logger receives etcd's warnings and errors; nil means slog.Default().
	Logger *slog.Logger
}

// Server is a running embedded etcd server.
type Server struct {
	etcd      *embed.Etcd
	endpoints []string
	closing   *atomic.Bool
	// closed closes when a Close has returned.
	closed    chan struct{}
	closeOnce sync.Once
}

// Start starts an embedded etcd and returns once it serves clients.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	closing := new(atomic.Bool)
	ec, err := cfg.etcdConfig(closing)
	if err != nil {
		return nil, err
	}
	e, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("failed to start embedded etcd %s: %w", cfg.DataDir, err)
	}
	timeout := cfg.StartTimeout
	if timeout == 0 {
		timeout = DefaultStartTimeout
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-e.Server.ReadyNotify():
		return &Server{etcd: e, endpoints: listenerURLs(ec.ListenClientUrls[0].Scheme, e), closing: closing, closed: make(chan struct{})}, nil
	case err := <-e.Err():
		closing.Store(true)
		e.Close()
		return nil, fmt.Errorf("failed to start embedded etcd %s: %w", cfg.DataDir, err)
	case <-timer.C:
		closing.Store(true)
		e.Close()
		return nil, fmt.Errorf("failed to start embedded etcd %s: not ready after %s", cfg.DataDir, timeout)
	case <-ctx.Done():
		closing.Store(true)
		e.Close()
		return nil, fmt.Errorf("failed to start embedded etcd %s: %w", cfg.DataDir, ctx.Err())
	}
}

// Endpoints are the client URLs the server listens on, with the bound ports.
func (s *Server) Endpoints() []string { return s.endpoints }

// Err delivers a fatal server error, if one happens while running.
func (s *Server) Err() <-chan error { return s.etcd.Err() }

// Close stops the server and waits until it has stopped; the data dir can be reused afterwards.
func (s *Server) Close() {
	s.closing.Store(true)
	s.etcd.Close()
	<-s.etcd.Server.StopNotify()
	s.closeOnce.Do(func() { close(s.closed) })
}

// CloseWithin stops the server as Close does, but waits at most d, and reports whether it
// stopped in time. etcd lets open client streams end on their own for its request timeout
// (5 s plus two election timeouts, 7 s by default) before it cuts them, and a waypoint's watch
// never ends on its own: with waypoints connected, Close takes that long. A process that exits
// after CloseWithin returned false leaves its data as a crash would, which etcd recovers from its
// write-ahead log at the next start; the stop goes on in the background meanwhile.
func (s *Server) CloseWithin(d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Close()
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// etcdConfig maps the config onto etcd's, with defaults applied.
func (cfg Config) etcdConfig(closing *atomic.Bool) (*embed.Config, error) {
	if cfg.DataDir == "" {
		return nil, fmt.Errorf("failed to configure embedded etcd: %w", errNoDataDir)
	}
	ec := embed.NewConfig()
	ec.Dir = cfg.DataDir
	ec.Name = orDefault(cfg.Name, DefaultName)
	client, err := url.Parse(orDefault(cfg.ClientURL, DefaultClientURL))
	if err != nil {
		return nil, fmt.Errorf("failed to parse client URL %s: %w", cfg.ClientURL, err)
	}
	peer, err := url.Parse(orDefault(cfg.PeerURL, DefaultPeerURL))
	if err != nil {
		return nil, fmt.Errorf("failed to parse peer URL %s: %w", cfg.PeerURL, err)
	}
	if tlsFiles := cfg.CertFile != "" || cfg.KeyFile != "" || cfg.ClientCAFile != ""; tlsFiles != (client.Scheme == "https") {
		// etcd would serve plain HTTP on an http URL and ignore the TLS files: refuse instead.
		return nil, fmt.Errorf("failed to configure embedded etcd %s: %w", client.Redacted(), errTLSMismatch)
	}
	ec.ListenClientUrls, ec.AdvertiseClientUrls = []url.URL{*client}, []url.URL{*client}
	ec.ListenPeerUrls, ec.AdvertisePeerUrls = []url.URL{*peer}, []url.URL{*peer}
	ec.InitialCluster = ec.InitialClusterFromName(ec.Name)
	ec.ClientTLSInfo = transport.TLSInfo{
		CertFile:       cfg.CertFile,
		KeyFile:        cfg.KeyFile,
		TrustedCAFile:  cfg.ClientCAFile,
		ClientCertAuth: cfg.ClientCAFile != "",
	}
	ec.TickMs, ec.ElectionMs = tickMs, electionMs
	// etcd keeps the last SnapshotCatchUpEntries raft entries in memory for slow followers
	// (5,000 by default). The embedded store has none; each entry is a transaction of up to
	// 1 MiB, and the hub's initial sync of 1,000,000 endpoints (1,708 transactions, 404 MB)
	// stayed in memory whole.
	ec.SnapshotCatchUpEntries = raftEntriesKept
	ec.AutoCompactionMode = "periodic"
	ec.AutoCompactionRetention = compactionRetention(cfg.CompactionRetention)
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(etcdlog.NewLogger(cfg.Logger, closing))
	return ec, nil
}

func compactionRetention(d time.Duration) string {
	switch {
	case d < 0:
		return "0"
	case d == 0:
		return DefaultCompactionRetention.String()
	}
	return d.String()
}

func listenerURLs(scheme string, e *embed.Etcd) []string {
	out := make([]string, 0, len(e.Clients))
	for _, l := range e.Clients {
		out = append(out, scheme+"://"+l.Addr().String())
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
