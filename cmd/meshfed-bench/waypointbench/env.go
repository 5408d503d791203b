package waypointbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/federation/store/embedded"
	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/hbone/identity"
	"github.com/meshfed/meshfed/waypoint"
)

// readyTimeout bounds the wait for the store, the waypoints and every path to answer.
const readyTimeout = 60 * time.Second

// env is the running mesh: an embedded etcd written by a fenced writer, the backend and one
// process per waypoint node.
type env struct {
	dir         string
	backendPort int32
	ports       map[string]int32 // waypoint port of each service
	relayPort   int32
	procs       map[string]*proc // by node name
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
	e := &env{dir: dir, procs: map[string]*proc{}}
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
	if err := issueCertificates(certDir, nodesOf(ps)); err != nil {
		return nil, err
	}
	if err := e.startBackend(); err != nil {
		return nil, err
	}
	storeLog := quietLogger(log, slog.LevelError)
	etcd, err := e.startStore(ctx, storeLog)
	if err != nil {
		return nil, err
	}
	hboneAddrs, err := e.allocate()
	if err != nil {
		return nil, err
	}
	if err := publish(ctx, etcd, records(e.ports, e.backendPort, hboneAddrs), storeLog); err != nil {
		return nil, err
	}
	for _, n := range nodesOf(ps) {
		bin, args := bins.waypoint, n.args(etcd, certDir, hboneAddrs[n.name], f.ProfileDir != "")
		if n.relay {
			bin, args = bins.relay, relayArgs(e.relayPort, e.backendPort)
		}
		p, err := startProc(n.name, bin, dir, args)
		if err != nil {
			return nil, err
		}
		e.procs[n.name] = p
		e.closers = append(e.closers, p.stop)
	}
	return e, e.waitReady(ctx, ps)
}

// close stops everything in reverse order of start.
func (e *env) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
}

// issueCertificates writes, from a throwaway development root, the certificate of
// spiffe://cluster.local/ns/bench/sa/meshfed-waypoint in each node's cluster into
// dir/<cluster>; the waypoints of a cluster share it.
func issueCertificates(dir string, nodes []node) error {
	ca, err := identity.NewRootCA(trustDomain, 24*time.Hour)
	if err != nil {
		return err
	}
	id, err := identity.WorkloadID(trustDomain, namespace, waypoint.ServiceAccount)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		issued, err := ca.Issue(identity.Workload{ID: id, Cluster: n.cluster}, 24*time.Hour)
		if err != nil {
			return err
		}
		if err := identity.WriteFiles(filepath.Join(dir, n.cluster), issued, ca.CertPEM()); err != nil {
			return err
		}
	}
	return nil
}

// payload is the body of every request and every response.
var payload = make([]byte, 1024)

// startBackend serves HTTP/1.1 on backendIP: it reads the request body and answers 1 KiB.
func (e *env) startBackend() error {
	l, err := net.Listen("tcp", net.JoinHostPort(backendIP, "0"))
	if err != nil {
		return fmt.Errorf("failed to listen for the backend on %s: %w", backendIP, err)
	}
	e.backendPort = int32(l.Addr().(*net.TCPAddr).Port)
	p := new(http.Protocols)
	p.SetHTTP1(true)
	srv := &http.Server{Handler: http.HandlerFunc(serveBackend), Protocols: p, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() { _ = srv.Serve(l); close(done) }()
	e.closers = append(e.closers, func() { _ = srv.Close(); <-done })
	return nil
}

func serveBackend(w http.ResponseWriter, r *http.Request) {
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
	_, _ = w.Write(payload)
}

// startStore starts the embedded etcd on 127.0.0.1 and returns its client URLs.
func (e *env) startStore(ctx context.Context, log *slog.Logger) ([]string, error) {
	client, err := freePort("127.0.0.1")
	if err != nil {
		return nil, err
	}
	peer, err := freePort("127.0.0.1")
	if err != nil {
		return nil, err
	}
	etcd, err := embedded.Start(ctx, embedded.Config{
		DataDir:   filepath.Join(e.dir, "etcd"),
		ClientURL: "http://" + hostPort("127.0.0.1", client), PeerURL: "http://" + hostPort("127.0.0.1", peer),
		Logger: log, StartTimeout: readyTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("failed to start the embedded store: %w", err)
	}
	e.closers = append(e.closers, etcd.Close)
	return etcd.Endpoints(), nil
}

// allocate picks each service's waypoint port, free on every A waypoint's address, the
// relay's port, and the HBONE addresses of B and C (free for TCP and UDP).
func (e *env) allocate() (map[string]string, error) {
	relay, err := freePort(relayIP)
	if err != nil {
		return nil, err
	}
	e.relayPort = relay
	e.ports = map[string]int32{}
	for _, svc := range []string{svcSame, svcH2, svcH3} {
		p, err := freePort(nodeSame.listen, nodeA2.listen, nodeA3.listen)
		if err != nil {
			return nil, err
		}
		e.ports[svc] = p
	}
	addrs := map[string]string{}
	for _, n := range []node{nodeB, nodeC} {
		tcp, udp, err := hbone.Listen(net.JoinHostPort(n.listen, "0"))
		if err != nil {
			return nil, fmt.Errorf("failed to find an HBONE port on %s: %w", n.listen, err)
		}
		addrs[n.name] = tcp.Addr().String()
		_ = tcp.Close()
		_ = udp.Close()
	}
	return addrs, nil
}

// freePort returns a TCP port that was free on every host a moment ago (the processes that
// bind it start later; a clash shows up as a waypoint that does not answer).
func freePort(hosts ...string) (int32, error) {
	for range 50 {
		l, err := net.Listen("tcp", net.JoinHostPort(hosts[0], "0"))
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		ok, held := true, []net.Listener{l}
		for _, h := range hosts[1:] {
			o, err := net.Listen("tcp", net.JoinHostPort(h, strconv.Itoa(port)))
			if err != nil {
				ok = false
				break
			}
			held = append(held, o)
		}
		for _, h := range held {
			_ = h.Close()
		}
		if ok {
			return int32(port), nil
		}
	}
	return 0, fmt.Errorf("failed to find a port free on %v", hosts)
}

// publish writes the records as the hub would: through a fenced writer that leads the store.
func publish(ctx context.Context, endpoints []string, recs []store.Record, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	c, err := store.Connect(ctx, store.ClientConfig{Endpoints: endpoints, Logger: log})
	if err != nil {
		return fmt.Errorf("failed to connect to the store: %w", err)
	}
	defer func() { _ = c.Close() }()
	w := store.NewWriter(c, store.WriterOptions{Identity: "meshfed-bench", Logger: log})
	if err := w.Campaign(ctx); err != nil {
		return fmt.Errorf("failed to lead the store: %w", err)
	}
	for _, r := range recs {
		if _, err := w.Put(ctx, r); err != nil {
			return fmt.Errorf("failed to put record %s: %w", r.Key(), err)
		}
	}
	return w.Resign(ctx)
}

// nodesOf lists the waypoints of ps once each, in order.
func nodesOf(ps []pathSpec) []node {
	var out []node
	seen := map[string]bool{}
	for _, p := range ps {
		for _, n := range p.nodes {
			if !seen[n.name] {
				seen[n.name] = true
				out = append(out, n)
			}
		}
	}
	return out
}

// waitReady sends requests on every path until each answers 200 from its expected cluster.
func (e *env) waitReady(ctx context.Context, ps []pathSpec) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for _, p := range ps {
		t := e.target(p, 1)
		var last error
		for ctx.Err() == nil {
			if last = t.do(ctx); last == nil {
				break
			}
			for _, n := range p.nodes {
				if err := e.procs[n.name].exited(); err != nil {
					return err
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.close()
		if last != nil {
			return fmt.Errorf("%w: %s: %w", errNotReady, p.name, errors.Join(last, ctx.Err()))
		}
	}
	return nil
}

// target is the client side of path p with a keep-alive pool of up to conns connections.
func (e *env) target(p pathSpec, conns int) *target {
	url := "http://" + hostPort(backendIP, e.backendPort) + "/"
	switch {
	case p.entry.relay:
		url = "http://" + hostPort(relayIP, e.relayPort) + "/"
	case p.service != "":
		url = "http://" + hostPort(p.entry.listen, e.ports[p.service]) + "/"
	}
	return newTarget(url, p.cluster, conns)
}
