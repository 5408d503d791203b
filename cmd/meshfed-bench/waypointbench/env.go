package waypointbench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/benchmesh"
	"github.com/meshfed/meshfed/cmd/meshfed-bench/benchproc"
	"github.com/meshfed/meshfed/cmd/meshfed-bench/loadgen"
	"github.com/meshfed/meshfed/hbone"
)

// env is the running mesh: an embedded etcd written by a fenced writer, the backend and one
// process per waypoint node.
type env struct {
	dir         string
	backendPort int32
	ports       map[string]int32 // waypoint port of each service
	relayPort   int32
	procs       map[string]*benchproc.Proc // by node name
	closers     []func()
}

// newEnv builds (or takes) the waypoint binary, issues certificates, starts the store and
// the backend, publishes the records, starts the waypoints of ps and waits until every path
// answers from the expected cluster.
func newEnv(ctx context.Context, f Flags, ps []pathSpec, log *slog.Logger) (_ *env, err error) {
	dir, err := os.MkdirTemp("", "meshfed-bench-waypoint-")
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
	bins, err := binaries(ctx, f, dir, log)
	if err != nil {
		return nil, err
	}
	certDir := filepath.Join(dir, "certs")
	if err := benchmesh.IssueCertificates(certDir, clustersOf(nodesOf(ps))); err != nil {
		return nil, err
	}
	backend, err := loadgen.StartBackend(backendIP)
	if err != nil {
		return nil, err
	}
	e.closers = append(e.closers, backend.Close)
	e.backendPort = backend.Port()
	storeLog := benchmesh.QuietLogger(log, slog.LevelError)
	etcd, stopStore, err := benchmesh.StartStore(ctx, dir, storeLog)
	if err != nil {
		return nil, err
	}
	e.closers = append(e.closers, stopStore)
	hboneAddrs, err := e.allocate()
	if err != nil {
		return nil, err
	}
	if err := benchmesh.Publish(ctx, etcd, records(e.ports, e.backendPort, hboneAddrs), storeLog); err != nil {
		return nil, err
	}
	for _, n := range nodesOf(ps) {
		bin, args := bins.waypoint, n.args(etcd, certDir, hboneAddrs[n.Name], f.ProfileDir != "")
		if n.relay {
			bin, args = bins.relay, relayArgs(e.relayPort, e.backendPort)
		}
		p, err := benchproc.Start(n.Name, bin, dir, args, nil)
		if err != nil {
			return nil, err
		}
		e.procs[n.Name] = p
		e.closers = append(e.closers, p.Stop)
	}
	return e, e.waitReady(ctx, ps)
}

// close stops everything in reverse order of start.
func (e *env) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
}

// binPaths are the programs the benchmark runs.
type binPaths struct{ waypoint, relay string }

// binaries takes the prebuilt programs of f and builds the others from the module into dir.
func binaries(ctx context.Context, f Flags, dir string, log *slog.Logger) (binPaths, error) {
	b := binPaths{waypoint: f.WaypointBinary, relay: f.RelayBinary}
	var err error
	if b.waypoint == "" {
		log.Info("building meshfed-waypoint")
		if b.waypoint, err = benchproc.Build(ctx, dir, "meshfed-waypoint", "./cmd/meshfed-waypoint"); err != nil {
			return b, err
		}
	}
	if b.relay == "" {
		if b.relay, err = benchproc.Build(ctx, dir, "tcprelay", "./cmd/meshfed-bench/tcprelay"); err != nil {
			return b, err
		}
	}
	return b, nil
}

// allocate picks each service's waypoint port, free on every A waypoint's address, the
// relay's port, and the HBONE addresses of B and C (free for TCP and UDP).
func (e *env) allocate() (map[string]string, error) {
	relay, err := benchmesh.FreePort(relayIP)
	if err != nil {
		return nil, err
	}
	e.relayPort = relay
	e.ports = map[string]int32{}
	for _, svc := range []string{svcSame, svcH2, svcH3} {
		p, err := benchmesh.FreePort(nodeSame.Listen, nodeA2.Listen, nodeA3.Listen)
		if err != nil {
			return nil, err
		}
		e.ports[svc] = p
	}
	addrs := map[string]string{}
	for _, n := range []node{nodeB, nodeC} {
		tcp, udp, err := hbone.Listen(net.JoinHostPort(n.Listen, "0"))
		if err != nil {
			return nil, fmt.Errorf("failed to find an HBONE port on %s: %w", n.Listen, err)
		}
		addrs[n.Name] = tcp.Addr().String()
		_ = tcp.Close()
		_ = udp.Close()
	}
	return addrs, nil
}

// nodesOf lists the waypoints of ps once each, in order.
func nodesOf(ps []pathSpec) []node {
	var out []node
	seen := map[string]bool{}
	for _, p := range ps {
		for _, n := range p.nodes {
			if !seen[n.Name] {
				seen[n.Name] = true
				out = append(out, n)
			}
		}
	}
	return out
}

// clustersOf lists the clusters of the waypoints among nodes once each (the relay has none).
func clustersOf(nodes []node) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range nodes {
		if !n.relay && !seen[n.Cluster] {
			seen[n.Cluster] = true
			out = append(out, n.Cluster)
		}
	}
	return out
}

// errNotReady is returned when a path does not answer in time.
var errNotReady = errors.New("path not ready")

// waitReady sends requests on every path until each answers 200 from its expected cluster.
func (e *env) waitReady(ctx context.Context, ps []pathSpec) error {
	ctx, cancel := context.WithTimeout(ctx, benchmesh.ReadyTimeout)
	defer cancel()
	for _, p := range ps {
		t := e.target(p, 1)
		var last error
		for ctx.Err() == nil {
			if last = t.Do(ctx); last == nil {
				break
			}
			for _, n := range p.nodes {
				if err := e.procs[n.Name].Exited(); err != nil {
					return err
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Close()
		if last != nil {
			return fmt.Errorf("%w: %s: %w", errNotReady, p.name, errors.Join(last, ctx.Err()))
		}
	}
	return nil
}

// target is the client side of path p with a keep-alive pool of up to conns connections.
func (e *env) target(p pathSpec, conns int) *loadgen.Target {
	url := "http://" + benchmesh.HostPort(backendIP, e.backendPort) + "/"
	switch {
	case p.entry.relay:
		url = "http://" + benchmesh.HostPort(relayIP, e.relayPort) + "/"
	case p.service != "":
		url = "http://" + benchmesh.HostPort(p.entry.Listen, e.ports[p.service]) + "/"
	}
	return loadgen.NewTarget(url, p.cluster, conns)
}
