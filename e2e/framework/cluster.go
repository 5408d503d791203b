package framework

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// AdminUser is the user (in group system:masters) that Cluster.Config,
// Cluster.Client and Cluster.Kubeconfig authenticate as.
const AdminUser = "admin"

// Cluster is one running control plane: its own etcd and kube-apiserver on
// loopback, with client-certificate authentication.
//
// Config, Client and the address stay valid across Stop and Restart: the
// API server keeps its port, its serving certificate and its client CA, and
// etcd keeps its data, so a restarted cluster serves the objects it had.
type Cluster struct {
	// Name identifies the cluster in test output and in its kubeconfig.
	Name string
	// Config is the admin REST config (inline CA, client certificate and key).
	Config *rest.Config
	// Client is a controller-runtime client for Config using Scheme.
	Client client.Client
	// Scheme holds the types Client knows; see NewScheme and WithScheme.
	Scheme *runtime.Scheme

	env          *envtest.Environment
	readyTimeout time.Duration

	mu      sync.Mutex
	running bool
}

// Kubeconfig returns a kubeconfig for the admin user with every credential
// inline, suitable for a member kubeconfig Secret.
func (c *Cluster) Kubeconfig() ([]byte, error) {
	return Kubeconfig(c.Name, c.Config)
}

// KubeconfigFile writes c's kubeconfig into a temporary directory of t and returns its path;
// it fails t when it cannot.
func (c *Cluster) KubeconfigFile(t testing.TB) string {
	t.Helper()
	data, err := c.Kubeconfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// AddUser provisions a user with the given groups, authenticated by a client
// certificate from the cluster's client CA, and returns its REST config. The
// user has no permissions beyond its groups' RBAC bindings.
func (c *Cluster) AddUser(name string, groups ...string) (*rest.Config, error) {
	user, err := c.env.AddUser(envtest.User{Name: name, Groups: groups}, rest.CopyConfig(c.Config))
	if err != nil {
		return nil, fmt.Errorf("failed to add user %s to cluster %s: %w", name, c.Name, err)
	}
	return user.Config(), nil
}

// Running reports whether the cluster's API server was started and not
// stopped since.
func (c *Cluster) Running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.running
}

// Stop stops the API server and then etcd, keeping etcd's data, the API
// server's certificates and both addresses. Requests to the cluster fail
// until Restart. Stopping a stopped cluster does nothing.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopLocked()
}

// Restart stops the cluster if it is running, starts etcd and the API server
// again on the same client addresses (only etcd's unused peer port changes),
// and waits until the API server reports ready. The ports are not held while
// the cluster is stopped; should another process take one meanwhile, Restart
// fails rather than moving the cluster.
func (c *Cluster) Restart() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.stopLocked(); err != nil {
		return err
	}
	plane := &c.env.ControlPlane
	if err := plane.Etcd.Start(); err != nil {
		return fmt.Errorf("failed to restart etcd of cluster %s: %w", c.Name, err)
	}
	if err := plane.APIServer.Start(); err != nil {
		return errors.Join(
			fmt.Errorf("failed to restart kube-apiserver of cluster %s: %w", c.Name, err),
			plane.Etcd.Stop())
	}
	c.running = true
	return c.waitReady()
}

// stopLocked stops both processes; the caller holds c.mu.
func (c *Cluster) stopLocked() error {
	if !c.running {
		return nil
	}
	if err := c.env.ControlPlane.Stop(); err != nil && !killedAfterTimeout(err) {
		return fmt.Errorf("failed to stop control plane of cluster %s: %w", c.Name, err)
	}
	c.running = false
	return nil
}

// killedAfterTimeout reports whether every error of a control-plane stop is envtest's "timeout
// waiting for process … to stop", after which envtest has sent SIGKILL: the process is gone,
// which is all a test stopping a cluster (an outage) needs. A kube-apiserver draining the
// long-running watches of a client under load can take longer than the stop timeout.
func killedAfterTimeout(err error) bool {
	for _, line := range strings.Split(err.Error(), "\n") {
		if line != "" && !strings.Contains(line, "timeout waiting for process") {
			return false
		}
	}
	return true
}

// shutdown stops the processes for good; it is what Start registers with
// t.Cleanup.
func (c *Cluster) shutdown() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.running = false
	// The control plane stops both processes even when one outlasts its stop timeout, and
	// envtest then kills it: the test is over either way, so that is no failure of it.
	if err := c.env.Stop(); err != nil && !killedAfterTimeout(err) {
		return fmt.Errorf("failed to stop cluster %s: %w", c.Name, err)
	}
	return nil
}

// waitReady polls /readyz until the API server answers ok or readyTimeout
// passes. /healthz, which envtest waits for, can pass before the CRD
// handlers are back after a restart.
func (c *Cluster) waitReady() error {
	disco, err := discovery.NewDiscoveryClientForConfig(c.Config)
	if err != nil {
		return fmt.Errorf("failed to create discovery client for cluster %s: %w", c.Name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.readyTimeout)
	defer cancel()
	var last error
	err = wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		_, last = disco.RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return last == nil, nil
	})
	if err != nil {
		return fmt.Errorf("failed to wait for readiness of cluster %s: %w", c.Name, errors.Join(err, last))
	}
	return nil
}
