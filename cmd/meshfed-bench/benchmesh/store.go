package benchmesh

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/federation/store/embedded"
	"github.com/meshfed/meshfed/hbone/identity"
	"github.com/meshfed/meshfed/waypoint"
)

// ReadyTimeout bounds the wait for the store, and for the processes and paths of a benchmark
// to answer.
const ReadyTimeout = 60 * time.Second

// StartStore starts an embedded etcd on 127.0.0.1 with its data under dir and returns its
// client URLs and the function that stops it.
func StartStore(ctx context.Context, dir string, log *slog.Logger) ([]string, func(), error) {
	client, err := FreePort("127.0.0.1")
	if err != nil {
		return nil, nil, err
	}
	peer, err := FreePort("127.0.0.1")
	if err != nil {
		return nil, nil, err
	}
	etcd, err := embedded.Start(ctx, embedded.Config{
		DataDir:   filepath.Join(dir, "etcd"),
		ClientURL: "http://" + HostPort("127.0.0.1", client), PeerURL: "http://" + HostPort("127.0.0.1", peer),
		Logger: log, StartTimeout: ReadyTimeout,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("failed to start the embedded store: %w", err)
	}
	return etcd.Endpoints(), etcd.Close, nil
}

// Publish writes the records as the hub would: through a fenced writer that leads the store.
func Publish(ctx context.Context, endpoints []string, recs []store.Record, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
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

// IssueCertificates writes, from a throwaway development root, the certificate of
// spiffe://cluster.local/ns/bench/sa/meshfed-waypoint in each cluster into dir/<cluster>;
// the waypoints of a cluster share it.
func IssueCertificates(dir string, clusters []string) error {
	ca, err := identity.NewRootCA(TrustDomain, 24*time.Hour)
	if err != nil {
		return err
	}
	id, err := identity.WorkloadID(TrustDomain, Namespace, waypoint.ServiceAccount)
	if err != nil {
		return err
	}
	for _, c := range clusters {
		issued, err := ca.Issue(identity.Workload{ID: id, Cluster: c}, 24*time.Hour)
		if err != nil {
			return err
		}
		if err := identity.WriteFiles(filepath.Join(dir, c), issued, ca.CertPEM()); err != nil {
			return err
		}
	}
	return nil
}

// FreePort returns a TCP port that was free on every host a moment ago (the processes that
// bind it start later; a clash shows up as a process that does not answer).
func FreePort(hosts ...string) (int32, error) {
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

// HostPort joins host and port.
func HostPort(host string, port int32) string { return net.JoinHostPort(host, strconv.Itoa(int(port))) }
