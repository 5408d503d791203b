package clusters

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/meshfed/meshfed/e2e/framework"
)

// Options choose a set of clusters.
type Options struct {
	// Prefix names the set's containers, networks and state directory (default "meshfed").
	Prefix string
	// N is the number of clusters (default 3): the last one is on network B.
	N int
	// SubnetBase is the second octet of the set's Docker subnets 172.<SubnetBase>.0-2.0/24
	// (default 30).
	SubnetBase int
	// Root is the repository (default: found above the working directory).
	Root string
	// StateDir holds each cluster's configuration and kubeconfig (default
	// ${XDG_CACHE_HOME:-~/.cache}/meshfed/clusters/<prefix>); Down removes it.
	StateDir string
	// Workers are the worker nodes to add (nil: DefaultWorkers; an empty slice: none).
	Workers []WorkerSpec
	// Log receives progress (default io.Discard).
	Log io.Writer
}

func (o *Options) defaults() error {
	if o.Prefix == "" {
		o.Prefix = "meshfed"
	}
	if o.N == 0 {
		o.N = 3
	}
	if o.SubnetBase == 0 {
		o.SubnetBase = 30
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Workers == nil {
		o.Workers = DefaultWorkers
	}
	if o.Root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return fmt.Errorf("failed to find working directory: %w", err)
		}
		if o.Root, err = framework.RepoRoot(wd); err != nil {
			return err
		}
	}
	if o.StateDir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return fmt.Errorf("failed to find cache directory: %w", err)
		}
		o.StateDir = filepath.Join(cache, "meshfed", "clusters", o.Prefix)
	}
	return nil
}

// Set is a running set of clusters.
type Set struct {
	Topology
	Artifacts *Artifacts
	// StateDir holds <cluster>/kubeconfig and <cluster>/node/ (the node's /etc/kubernetes).
	StateDir string
	// Created is true when Up created the clusters, false when it found them running.
	Created bool
	log     io.Writer
}

// Kubeconfig is the path of the admin kubeconfig of cluster c, for the host and for other
// clusters' pods alike: its server is the node's transit address.
func (s *Set) Kubeconfig(c *Cluster) string {
	return filepath.Join(s.StateDir, c.Name, "kubeconfig")
}

// Up builds what is missing, then creates the set's clusters, or reuses them when they are
// running with the same configuration, and waits until every node is Ready and CoreDNS serves.
func Up(ctx context.Context, opts Options) (*Set, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	unlock, err := lockState(opts.StateDir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	artifacts, err := Build(ctx, opts.Root, opts.Log)
	if err != nil {
		return nil, err
	}
	topo, err := NewTopology(opts.Prefix, opts.N, opts.SubnetBase, opts.Workers)
	if err != nil {
		return nil, err
	}
	s := &Set{Topology: topo, Artifacts: artifacts, StateDir: opts.StateDir, log: opts.Log}
	reuse, err := s.running(ctx)
	if err != nil {
		return nil, err
	}
	if !reuse {
		if err := s.create(ctx); err != nil {
			return nil, err
		}
		s.Created = true
	}
	if err := s.waitReady(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// configHash identifies what the set's nodes are created from.
func (s *Set) configHash() string {
	h := sha256.New()
	fmt.Fprintln(h, s.Artifacts.NodeImage, s.Artifacts.K8sBinDir, s.Artifacts.PauseImage,
		s.Artifacts.CoreDNSImage, s.Artifacts.EchoImage, len(s.Clusters), s.Networks)
	for i := range s.Clusters {
		for _, n := range s.Clusters[i].Nodes {
			fmt.Fprintln(h, n.Name, n.IP, n.TransitIP, n.PodCIDR, n.Labels, n.Taints)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// running reports whether every node of the set is running with this configuration and has its
// state directory.
func (s *Set) running(ctx context.Context) (bool, error) {
	names, err := listLabeled(ctx, "ps", s.Prefix)
	if err != nil {
		return false, err
	}
	if len(names) != s.NodeCount() {
		return false, nil
	}
	for i := range s.Clusters {
		c := &s.Clusters[i]
		for _, n := range c.Nodes {
			up, config, err := containerState(ctx, n.Container)
			if err != nil || !up || config != s.configHash() {
				return false, nil // a missing or different node: create anew
			}
		}
		if _, err := os.Stat(s.Kubeconfig(c)); err != nil {
			return false, nil
		}
	}
	fmt.Fprintf(s.log, "reusing the running clusters of %s\n", s.Prefix)
	return true, nil
}

// create removes whatever is left of the set, then makes its networks and nodes.
func (s *Set) create(ctx context.Context) error {
	if err := down(ctx, s.Prefix, s.StateDir, s.log); err != nil {
		return err
	}
	for _, n := range s.Networks {
		_, err := docker(ctx, nil, "network", "create", "--driver", "bridge", "--subnet", n.Subnet.String(),
			"--label", labelSet+"="+s.Prefix, n.Name)
		if err != nil {
			return err
		}
	}
	for i := range s.Clusters {
		if err := s.createCluster(ctx, &s.Clusters[i]); err != nil {
			return err
		}
	}
	for i := range s.Clusters {
		if err := s.bootstrap(ctx, &s.Clusters[i]); err != nil {
			return err
		}
	}
	return nil
}

// createCluster writes the cluster's configuration and starts its nodes.
func (s *Set) createCluster(ctx context.Context, c *Cluster) error {
	files, err := nodeFiles(c, s.Artifacts, time.Now())
	if err != nil {
		return err
	}
	dir := filepath.Join(s.StateDir, c.Name)
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return fmt.Errorf("failed to create directory for %s: %w", path, err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return fmt.Errorf("failed to write %s: %w", path, err)
		}
	}
	for i := range c.Nodes {
		if err := s.createNode(ctx, c, &c.Nodes[i]); err != nil {
			return err
		}
	}
	return nil
}

// createNode starts node n of cluster c, its configuration in the cluster's state directory.
func (s *Set) createNode(ctx context.Context, c *Cluster, n *Node) error {
	role := "control plane"
	if n.Worker {
		role = "worker"
	}
	fmt.Fprintf(s.log, "creating %s (%s, %s %s on %s, %s)\n", n.Container, c.Name, role, n.IP, c.Network, n.TransitIP)
	args := []string{"create", "--name", n.Container, "--hostname", n.Name, "--init",
		"--label", labelSet + "=" + s.Prefix, "--label", labelConfig + "=" + s.configHash(),
		// What a kubelet needs, short of --privileged (which fails where the host's capability
		// bounding set lacks CAP_SYS_RESOURCE).
		"--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
		"--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
		"--device-cgroup-rule", "a *:* rwm", "--device", "/dev/kmsg", "--cgroupns", "private",
		"--tmpfs", "/run", "--tmpfs", "/tmp", "--tmpfs", "/var/lib/etcd",
		// containerd's overlay snapshots cannot live on the container's own overlay.
		"--volume", "/var/lib/containerd",
		"--volume", filepath.Join(s.StateDir, c.Name, n.Dir) + ":/etc/kubernetes:ro",
		"--volume", s.Artifacts.K8sBinDir + ":/opt/meshfed/bin:ro",
		"--network", s.NetworkName(c), "--ip", n.IP.String(),
		s.Artifacts.NodeImage,
	}
	if _, err := docker(ctx, nil, args...); err != nil {
		return err
	}
	if _, err := docker(ctx, nil, "network", "connect", "--ip", n.TransitIP.String(), s.TransitName(), n.Container); err != nil {
		return err
	}
	_, err := docker(ctx, nil, "start", n.Container)
	return err
}

// Down removes the set's nodes (with their volumes), its networks and its state directory.
// Images and the build caches stay.
func Down(ctx context.Context, opts Options) error {
	if err := opts.defaults(); err != nil {
		return err
	}
	unlock, err := lockState(opts.StateDir)
	if err != nil {
		return err
	}
	defer unlock()
	return down(ctx, opts.Prefix, opts.StateDir, opts.Log)
}

func down(ctx context.Context, prefix, stateDir string, log io.Writer) error {
	containers, err := listLabeled(ctx, "ps", prefix)
	if err != nil {
		return err
	}
	if len(containers) > 0 {
		fmt.Fprintf(log, "removing %s\n", strings.Join(containers, " "))
		if _, err := docker(ctx, nil, append([]string{"rm", "--force", "--volumes"}, containers...)...); err != nil {
			return err
		}
	}
	networks, err := listLabeled(ctx, "network ls", prefix)
	if err != nil {
		return err
	}
	if len(networks) > 0 {
		if _, err := docker(ctx, nil, append([]string{"network", "rm"}, networks...)...); err != nil {
			return err
		}
	}
	// Keep the lock file: another process may hold it.
	entries, err := os.ReadDir(stateDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("failed to read state directory %s: %w", stateDir, err)
	}
	for _, e := range entries {
		if e.Name() == lockFile {
			continue
		}
		if err := os.RemoveAll(filepath.Join(stateDir, e.Name())); err != nil {
			return fmt.Errorf("failed to remove state of %s: %w", e.Name(), err)
		}
	}
	return nil
}

const lockFile = ".lock"

// lockState takes an exclusive lock on the set's state directory, so that a test and `make
// clusters` never create or remove the same set at once.
func lockState(dir string) (func(), error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create state directory %s: %w", dir, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("failed to open lock of %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("failed to lock %s: %w", dir, err)
	}
	fmt.Fprint(f, strconv.Itoa(os.Getpid()))
	return func() { f.Close() }, nil
}
