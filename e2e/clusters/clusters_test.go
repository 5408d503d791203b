package clusters_test

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshfed/meshfed/e2e/clusters"
)

// The real clusters are shared by every test of this package: brought up (or found running) by
// the first test that needs them, removed at the end if this process created them.
var shared struct {
	once sync.Once
	set  *clusters.Set
	err  error
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if shared.set != nil && shared.set.Created && os.Getenv("MESHFED_KEEP_CLUSTERS") == "" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		if err := clusters.Down(ctx, clusters.Options{Log: os.Stderr}); err != nil {
			fmt.Fprintln(os.Stderr, "failed to remove the clusters:", err)
			code = 1
		}
		cancel()
	}
	os.Exit(code)
}

// realClusters returns the shared set, bringing it up on first use. Only -short skips it.
func realClusters(t *testing.T) *clusters.Set {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skips the real clusters in Docker (minutes from a cold cache; `make clusters` brings them up by hand)")
	}
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
		defer cancel()
		start := time.Now()
		// Progress goes to stderr: later tests use the set after this one has ended.
		shared.set, shared.err = clusters.Up(ctx, clusters.Options{Log: os.Stderr})
		t.Logf("clusters up in %s", time.Since(start).Round(time.Second))
	})
	if shared.err != nil {
		t.Fatalf("failed to bring up the clusters: %v", shared.err)
	}
	return shared.set
}

const testNS = "clusters-test"

// TestClusters checks what every later test relies on: nodes Ready, cluster DNS, pod routes
// between the clusters of network A, none into network B except through a node's address.
func TestClusters(t *testing.T) {
	set := realClusters(t)
	if len(set.Clusters) != 3 {
		t.Fatalf("want 3 clusters, got %d", len(set.Clusters))
	}
	ctx := t.Context()
	pods := make([]struct{ name, ip string }, len(set.Clusters))
	for i := range set.Clusters {
		c := &set.Clusters[i]
		out, err := set.Kubectl(ctx, c, nil, "get", "node", c.NodeName, "-o",
			`jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		if err != nil || out != "True" {
			t.Fatalf("node %s of %s: Ready=%q, %v", c.NodeName, c.Name, out, err)
		}
		if err := set.Apply(ctx, c, testNS, set.EchoDeployment(c, testNS, "echo", 1)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range set.Clusters {
		c := &set.Clusters[i]
		if err := set.Rollout(ctx, c, testNS, "echo", 2*time.Minute); err != nil {
			t.Fatal(err)
		}
		name, ip, err := set.PodOf(ctx, c, testNS, "echo")
		if err != nil {
			t.Fatal(err)
		}
		pods[i].name, pods[i].ip = name, ip
		t.Logf("%s: pod %s at %s", c.Name, name, ip)
	}

	t.Run("DNS", func(t *testing.T) {
		for i := range set.Clusters {
			c := &set.Clusters[i]
			out, err := set.Exec(ctx, c, testNS, pods[i].name, "lookup", "kubernetes.default")
			if err != nil {
				t.Fatalf("%s: %v", c.Name, err)
			}
			if got := strings.TrimSpace(out); got != c.APIServerIP.String() {
				t.Errorf("%s: kubernetes.default resolves to %q, want %s", c.Name, got, c.APIServerIP)
			}
		}
	})

	c1, c2, c3 := &set.Clusters[0], &set.Clusters[1], &set.Clusters[2]
	get := func(from *clusters.Cluster, pod, url string) (string, error) {
		return set.Exec(ctx, from, testNS, pod, "get", url)
	}
	t.Run("NetworkA", func(t *testing.T) {
		for _, tc := range []struct {
			from, to int
		}{{0, 1}, {1, 0}} {
			from, to := &set.Clusters[tc.from], &set.Clusters[tc.to]
			out, err := get(from, pods[tc.from].name, "http://"+pods[tc.to].ip+":8080/")
			if err != nil {
				t.Fatalf("pod of %s to pod of %s: %v", from.Name, to.Name, err)
			}
			if !strings.Contains(out, "cluster="+to.Name+" ") {
				t.Errorf("pod of %s to pod of %s answered %q", from.Name, to.Name, out)
			}
		}
	})
	t.Run("NetworkBIsolated", func(t *testing.T) {
		// The pod of cluster 3 serves inside its own cluster...
		if _, err := get(c3, pods[2].name, "http://"+pods[2].ip+":8080/"); err != nil {
			t.Fatalf("pod of %s from its own cluster: %v", c3.Name, err)
		}
		// ...but neither network reaches the other's pod addresses.
		for _, tc := range []struct {
			from *clusters.Cluster
			pod  string
			to   string
		}{{c1, pods[0].name, pods[2].ip}, {c2, pods[1].name, pods[2].ip}, {c3, pods[2].name, pods[0].ip}} {
			out, err := set.Exec(ctx, tc.from, testNS, tc.pod, "dial", tc.to+":8080")
			if err == nil {
				t.Errorf("pod of %s reached %s across networks: %s", tc.from.Name, tc.to, out)
			}
		}
	})
	var nodePortURL string
	t.Run("NetworkBThroughNodePort", func(t *testing.T) {
		svc := `apiVersion: v1
kind: Service
metadata:
  name: echo
  namespace: ` + testNS + `
spec:
  type: NodePort
  selector: {app: echo}
  ports: [{port: 8080, targetPort: http}]
`
		if err := set.Apply(ctx, c3, "", svc); err != nil {
			t.Fatal(err)
		}
		port, err := set.Kubectl(ctx, c3, nil, "-n", testNS, "get", "service", "echo", "-o", "jsonpath={.spec.ports[0].nodePort}")
		if err != nil {
			t.Fatal(err)
		}
		url := "http://" + c3.TransitIP.String() + ":" + port + "/"
		var out string
		err = poll(ctx, 30*time.Second, func() error {
			out, err = get(c1, pods[0].name, url)
			return err
		})
		if err != nil {
			t.Fatalf("pod of %s to %s (NodePort of %s): %v", c1.Name, url, c3.Name, err)
		}
		if !strings.Contains(out, "cluster="+c3.Name+" ") {
			t.Errorf("NodePort of %s answered %q", c3.Name, out)
		}
		nodePortURL = url
	})
	t.Run("WorkerNodes", func(t *testing.T) {
		workerNodes(t, set, pods[1].name, pods[1].ip, pods[2].ip, nodePortURL)
	})
}

// workerNodes checks cluster-1's nodes, the workers included: each is Ready with its labels and
// taints, and a pod bound to it takes its address from the node's slice of the pod CIDR,
// resolves through the cluster's DNS, reaches the pods of the other nodes and of cluster-2 by
// pod IP (and is reached from cluster-2's pod c2Pod), reaches cluster-3 through its NodePort
// (nodePortURL, when that subtest passed) and not cluster-3's pod IP c3IP.
func workerNodes(t *testing.T, set *clusters.Set, c2Pod, c2IP, c3IP, nodePortURL string) {
	ctx := t.Context()
	c1, c2 := &set.Clusters[0], &set.Clusters[1]
	if len(c1.Nodes) < 2 {
		t.Fatalf("%s has no worker node: the tests bring the clusters up with clusters.DefaultWorkers", c1.Name)
	}
	names := make([]string, len(c1.Nodes))
	ips := make([]string, len(c1.Nodes))
	for _, n := range c1.Nodes {
		out, err := set.Kubectl(ctx, c1, nil, "get", "node", n.Name, "-o",
			`jsonpath={.status.conditions[?(@.type=="Ready")].status} {.spec.taints[*].key}`)
		if err != nil {
			t.Fatal(err)
		}
		ready, taints, _ := strings.Cut(out, " ")
		if ready != "True" || (len(n.Taints) > 0) != strings.Contains(taints, "meshfed.io/gateway") {
			t.Errorf("node %s: Ready=%q taints %q, want Ready with taints %q", n.Name, ready, taints, n.Taints)
		}
		if err := set.Apply(ctx, c1, testNS, set.EchoDeploymentOn(c1, testNS, "echo-"+n.Name, n.Name)); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, n := range c1.Nodes {
			_, _ = set.Kubectl(context.Background(), c1, nil, "-n", testNS, "delete", "deployment", "echo-"+n.Name, "--ignore-not-found")
		}
	})
	for i, n := range c1.Nodes {
		if err := set.Rollout(ctx, c1, testNS, "echo-"+n.Name, 2*time.Minute); err != nil {
			t.Fatal(err)
		}
		name, ip, err := set.PodOf(ctx, c1, testNS, "echo-"+n.Name)
		if err != nil {
			t.Fatal(err)
		}
		if a, err := netip.ParseAddr(ip); err != nil || !n.PodCIDR.Contains(a) {
			t.Errorf("pod %s on %s has address %s, outside the node's %s", name, n.Name, ip, n.PodCIDR)
		}
		names[i], ips[i] = name, ip
	}
	get := func(c *clusters.Cluster, pod, url, want string) {
		out, err := set.Exec(ctx, c, testNS, pod, "get", url)
		if err != nil || !strings.Contains(out, "cluster="+want+" ") {
			t.Errorf("pod %s of %s to %s: %q, %v", pod, c.Name, url, out, err)
		}
	}
	for i, n := range c1.Nodes {
		next := (i + 1) % len(c1.Nodes)
		get(c1, names[i], "http://"+ips[next]+":8080/", c1.Name)
		get(c1, names[i], "http://"+c2IP+":8080/", c2.Name)
		get(c2, c2Pod, "http://"+ips[i]+":8080/", c1.Name)
		if nodePortURL != "" {
			get(c1, names[i], nodePortURL, set.Clusters[2].Name)
		}
		if out, err := set.Exec(ctx, c1, testNS, names[i], "dial", c3IP+":8080"); err == nil {
			t.Errorf("pod on %s reached %s across networks: %s", n.Name, c3IP, out)
		}
		out, err := set.Exec(ctx, c1, testNS, names[i], "lookup", "kubernetes.default")
		if err != nil || strings.TrimSpace(out) != c1.APIServerIP.String() {
			t.Errorf("pod on %s: kubernetes.default resolves to %q (%v), want %s", n.Name, out, err, c1.APIServerIP)
		}
	}
}

func poll(ctx context.Context, timeout time.Duration, f func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := f()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Second):
		}
	}
}
