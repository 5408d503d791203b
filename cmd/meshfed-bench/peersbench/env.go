package peersbench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
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
// count (two for a cross-network subject).
type env struct {
	dir      string
	backends []benchmesh.Addr
	// waypointPort is the service's port on every same-network waypoint's address.
	waypointPort int32
	// peerTLS are the certificate files of the TLS peers' hop, when there are TLS peers.
	peerTLS tlsFiles
	procs   map[string][]*benchproc.Proc // by subject name
	closers []func()
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
	e := &env{dir: dir, procs: map[string][]*benchproc.Proc{}}
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
	etcd, err := e.startMesh(ctx, f.Workers, subjects, log)
	if err != nil {
		return nil, err
	}
	if slices.ContainsFunc(subjects, subject.isCrossPeer) {
		if e.peerTLS, err = issuePeerCertificates(filepath.Join(dir, "peer-certs")); err != nil {
			return nil, err
		}
	}
	for i := range subjects {
		s := &subjects[i]
		if err := e.start(s, s.waypointBinary(wpBin, f.BaselineBinary), peers, etcd); err != nil {
			return nil, err
		}
	}
	return e, e.waitReady(ctx, subjects)
}

// startMesh starts the store, issues the certificates of cluster a and of the cross-network
// waypoints' clusters, picks the service's waypoint port (free on every same-network
// waypoint's address) and the addresses of the cross-network waypoints among subjects, and
// publishes the service with the three backends as its endpoints, and each cross-network
// subject's service. It returns the store's endpoints.
func (e *env) startMesh(ctx context.Context, workers []int, subjects []subject, log *slog.Logger) ([]string, error) {
	storeLog := benchmesh.QuietLogger(log, slog.LevelError)
	etcd, stop, err := benchmesh.StartStore(ctx, e.dir, storeLog)
	if err != nil {
		return nil, err
	}
	e.closers = append(e.closers, stop)
	if err := benchmesh.IssueCertificates(filepath.Join(e.dir, "certs"), append([]string{cluster}, crossClusters(subjects)...)); err != nil {
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
	for i := range subjects {
		if s := &subjects[i]; s.isCrossWaypoint() {
			if err := allocateCross(s); err != nil {
				return nil, err
			}
			recs = append(recs, crossRecords(*s, e.backends)...)
		}
	}
	if err := benchmesh.Publish(ctx, etcd, recs, storeLog); err != nil {
		return nil, err
	}
	e.waypointPort = port
	return etcd, nil
}

// start writes s's configuration, picks its address and starts its process, or its two.
func (e *env) start(s *subject, wpBin string, peers map[string]string, etcd []string) error {
	switch {
	case s.kind == kindDirect:
		s.addr = e.backends[0]
		return nil
	case s.isCrossWaypoint():
		return e.startCrossWaypoints(*s, wpBin, etcd)
	case s.isWaypoint():
		s.addr = benchmesh.Addr{IP: waypointIP(s.workers), Port: e.waypointPort}
		if s.kind == kindBaseline {
			s.addr.IP = baselineIP(s.workers)
		}
		w := benchmesh.Waypoint{Name: s.name(), Cluster: cluster, Network: network, Listen: s.addr.IP, Transport: "h2"}
		return e.spawn(*s, s.fileName(), wpBin, w.Args(etcd, filepath.Join(e.dir, "certs"), "", ""), s.gomaxprocs())
	}
	port, err := benchmesh.FreePort(peerIP)
	if err != nil {
		return err
	}
	s.addr = benchmesh.Addr{IP: peerIP, Port: port}
	if s.isCrossPeer() {
		return e.startCrossPeer(s, peers)
	}
	bin, args, err := e.peerCommand(*s, peers)
	if err != nil {
		return err
	}
	return e.spawn(*s, s.fileName(), bin, args, nil)
}

// waypointBinary is the meshfed-waypoint s runs, if it runs any: baseline for the
// same-network baseline and both sides of a baseline pair, wp for the others.
func (s subject) waypointBinary(wp, baseline string) string {
	if s.isBaseline() {
		return baseline
	}
	return wp
}

// gomaxprocs is the environment of s's waypoint processes: GOMAXPROCS its worker count.
func (s subject) gomaxprocs() []string { return []string{"GOMAXPROCS=" + strconv.Itoa(s.workers)} }

// spawn starts one process of s, named name, and counts it among s's.
func (e *env) spawn(s subject, name, bin string, args, environ []string) error {
	p, err := benchproc.Start(name, bin, e.dir, args, environ)
	if err != nil {
		return err
	}
	e.procs[s.name()] = append(e.procs[s.name()], p)
	e.closers = append(e.closers, p.Stop)
	return nil
}

// startCrossWaypoints starts the backend-side waypoint of s, then its client side, each
// with GOMAXPROCS its worker count; startMesh has picked their addresses.
func (e *env) startCrossWaypoints(s subject, wpBin string, etcd []string) error {
	names, args := crossWaypointArgs(s, etcd, filepath.Join(e.dir, "certs"))
	for i := range names {
		if err := e.spawn(s, names[i], wpBin, args[i], s.gomaxprocs()); err != nil {
			return err
		}
	}
	return nil
}

// peerCommand writes the configuration of peer s into its own directory and returns its
// command line.
func (e *env) peerCommand(s subject, peers map[string]string) (string, []string, error) {
	dir := filepath.Join(e.dir, s.fileName())
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
	return peerProgram(s.program(), dir, string(s.kind), text, peers)
}

// program is the peer program s runs: haproxy or nginx.
func (s subject) program() string {
	if s.kind == kindNginx || s.kind == kindNginxTLS {
		return "nginx"
	}
	return "haproxy"
}

// peerProgram writes text into dir/<name>.conf and returns the command line of program
// reading it: in the foreground, so that the process started is the one measured and
// stopped.
func peerProgram(program, dir, name, text string, peers map[string]string) (string, []string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	conf := filepath.Join(dir, name+".conf")
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return "", nil, err
	}
	if program == "nginx" {
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
			for _, p := range e.procs[s.name()] {
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
