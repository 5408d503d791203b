package peersbench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/benchmesh"
	"github.com/meshfed/meshfed/cmd/meshfed-bench/benchproc"
	"github.com/meshfed/meshfed/cmd/meshfed-bench/loadgen"
	"github.com/meshfed/meshfed/federation/store"
)

// The benchmark's addresses, all on loopback: three backends, one waypoint per worker count
// on its own address (they share the service's port), the peers on one address.
var backendIPs3 = []string{"127.0.0.31", "127.0.0.32", "127.0.0.33"}

const (
	peerIP  = "127.0.0.50"
	service = "peers"
	cluster = "a"
	network = "n1"
)

// waypointIP is the listen address of the waypoint with w workers; baselineIP its baseline's.
func waypointIP(w int) string { return "127.0.0." + strconv.Itoa(40+w) }

func baselineIP(w int) string { return "127.0.0." + strconv.Itoa(60+w) }

// env is everything running: the backends, the store and one process per proxy and worker
// count.
type env struct {
	dir      string
	backends []benchmesh.Addr
	// waypointPort is the service's port on every waypoint's address.
	waypointPort int32
	procs        map[string]*benchproc.Proc // by subject name
	closers      []func()
}

// newEnv finds (or installs) the peers, builds (or takes) the waypoint, starts the backends
// and the store, publishes the service, starts every subject's process and waits until each
// answers.
func newEnv(ctx context.Context, f Flags, subjects []subject, log *slog.Logger) (_ *env, err error) {
	peers, err := peerPaths(ctx, log)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "meshfed-bench-peers-")
	if err != nil {
		return nil, err
	}
	e := &env{dir: dir, procs: map[string]*benchproc.Proc{}}
	e.closers = append(e.closers, func() { _ = os.RemoveAll(dir) })
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	wpBin := f.WaypointBinary
	if wpBin == "" {
		log.Info("building meshfed-waypoint")
		if wpBin, err = benchproc.Build(ctx, dir, "meshfed-waypoint", "./cmd/meshfed-waypoint"); err != nil {
			return nil, err
		}
	}
	for _, ip := range backendIPs3 {
		b, err := loadgen.StartBackend(ip)
		if err != nil {
			return nil, err
		}
		e.closers = append(e.closers, b.Close)
		e.backends = append(e.backends, benchmesh.Addr{IP: ip, Port: b.Port()})
	}
	etcd, err := e.startMesh(ctx, f.Workers, log)
	if err != nil {
		return nil, err
	}
	for i := range subjects {
		s := &subjects[i]
		bin := wpBin
		if s.kind == kindBaseline {
			bin = f.BaselineBinary
		}
		if err := e.start(s, bin, peers, etcd); err != nil {
			return nil, err
		}
	}
	return e, e.waitReady(ctx, subjects)
}

// startMesh starts the store, issues cluster a's certificate, picks the service's waypoint
// port (free on every waypoint's address) and publishes the service with the three backends
// as its endpoints. It returns the store's endpoints.
func (e *env) startMesh(ctx context.Context, workers []int, log *slog.Logger) ([]string, error) {
	storeLog := benchmesh.QuietLogger(log, slog.LevelError)
	etcd, stop, err := benchmesh.StartStore(ctx, e.dir, storeLog)
	if err != nil {
		return nil, err
	}
	e.closers = append(e.closers, stop)
	if err := benchmesh.IssueCertificates(filepath.Join(e.dir, "certs"), []string{cluster}); err != nil {
		return nil, err
	}
	var hosts []string
	for _, w := range workers {
		hosts = append(hosts, waypointIP(w), baselineIP(w))
	}
	port, err := benchmesh.FreePort(hosts...)
	if err != nil {
		return nil, err
	}
	recs := []store.Record{
		benchmesh.ServiceRecord(service, port, cluster, cluster),
		benchmesh.EndpointsRecord(service, cluster, network, e.backends),
	}
	if err := benchmesh.Publish(ctx, etcd, recs, storeLog); err != nil {
		return nil, err
	}
	e.waypointPort = port
	return etcd, nil
}

// start writes s's configuration, picks its address and starts its process.
func (e *env) start(s *subject, wpBin string, peers map[string]string, etcd []string) error {
	if s.kind == kindDirect {
		s.addr = e.backends[0]
		return nil
	}
	var bin string
	var args, environ []string
	if s.isWaypoint() {
		s.addr = benchmesh.Addr{IP: waypointIP(s.workers), Port: e.waypointPort}
		if s.kind == kindBaseline {
			s.addr.IP = baselineIP(s.workers)
		}
		w := benchmesh.Waypoint{Name: s.name(), Cluster: cluster, Network: network, Listen: s.addr.IP, Transport: "h2"}
		bin, args = wpBin, w.Args(etcd, filepath.Join(e.dir, "certs"), "", "")
		environ = []string{"GOMAXPROCS=" + strconv.Itoa(s.workers)}
	} else {
		port, err := benchmesh.FreePort(peerIP)
		if err != nil {
			return err
		}
		s.addr = benchmesh.Addr{IP: peerIP, Port: port}
		if bin, args, err = e.peerCommand(*s, peers); err != nil {
			return err
		}
	}
	p, err := benchproc.Start(s.fileName(), bin, e.dir, args, environ)
	if err != nil {
		return err
	}
	e.procs[s.name()] = p
	e.closers = append(e.closers, p.Stop)
	return nil
}

// peerCommand writes the configuration of peer s into its own directory and returns its
// command line: in the foreground, so that the process started is the one measured and
// stopped.
func (e *env) peerCommand(s subject, peers map[string]string) (string, []string, error) {
	dir := filepath.Join(e.dir, s.fileName())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	c := peerConfig{Listen: s.addr, Backends: e.backends, Workers: s.workers, Dir: dir}
	var text string
	var err error
	switch s.kind {
	case kindHAProxyHTTP:
		text, err = haproxyConfig(c, "http")
	case kindHAProxyTCP:
		text, err = haproxyConfig(c, "tcp")
	case kindNginx:
		text, err = nginxConfig(c)
	default:
		err = fmt.Errorf("failed to configure subject %s: not a peer", s.name())
	}
	if err != nil {
		return "", nil, err
	}
	conf := filepath.Join(dir, string(s.kind)+".conf")
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return "", nil, err
	}
	if s.kind == kindNginx {
		return peers["nginx"], []string{"-p", dir, "-c", conf, "-e", "stderr"}, nil
	}
	return peers["haproxy"], []string{"-db", "-f", conf}, nil
}

// close stops everything in reverse order of start.
func (e *env) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
}

// errNotReady is returned when a subject does not answer in time.
var errNotReady = errors.New("proxy not ready")

// waitReady sends requests through every subject until each answers 200.
func (e *env) waitReady(ctx context.Context, subjects []subject) error {
	ctx, cancel := context.WithTimeout(ctx, benchmesh.ReadyTimeout)
	defer cancel()
	for _, s := range subjects {
		t := s.target(1)
		var last error
		for ctx.Err() == nil {
			if last = t.Do(ctx); last == nil {
				break
			}
			if p := e.procs[s.name()]; p != nil {
				if err := p.Exited(); err != nil {
					return err
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Close()
		if last != nil {
			return fmt.Errorf("%w: %s: %w", errNotReady, s.name(), errors.Join(last, ctx.Err()))
		}
	}
	return nil
}
