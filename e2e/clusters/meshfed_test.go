package clusters_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshfed/meshfed/e2e/clusters"
	"github.com/meshfed/meshfed/e2e/framework"
)

// user runs commands as a user following the README's "On real clusters" steps would: kubectl
// and meshfedctl with one kubeconfig holding every cluster's context, from the repository root.
type user struct {
	t          *testing.T
	set        *clusters.Set
	root       string
	kubeconfig string
	meshfedctl string
	dir        string
	// etcd is the store's address as the waypoints reach it, set by install.
	etcd string
}

func newUser(t *testing.T, set *clusters.Set) *user {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := framework.RepoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	u := &user{t: t, set: set, root: root, dir: t.TempDir()}
	var paths []string
	for i := range set.Clusters {
		paths = append(paths, set.Kubeconfig(&set.Clusters[i]))
	}
	u.kubeconfig = strings.Join(paths, string(os.PathListSeparator))
	u.meshfedctl = filepath.Join(u.dir, "meshfedctl")
	u.run(t.Context(), "go", "build", "-o", u.meshfedctl, "./cmd/meshfedctl")
	return u
}

// run runs a command in the repository root with KUBECONFIG set and fails the test on error.
func (u *user) run(ctx context.Context, name string, args ...string) string {
	u.t.Helper()
	out, err := u.try(ctx, name, args...)
	if err != nil {
		u.t.Fatal(err)
	}
	return out
}

func (u *user) try(ctx context.Context, name string, args ...string) (string, error) {
	switch name {
	case "kubectl":
		name = u.set.Artifacts.Kubectl()
	case "meshfedctl":
		name = u.meshfedctl
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = u.root
	cmd.Env = append(os.Environ(), "KUBECONFIG="+u.kubeconfig)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w\n%s%s", filepath.Base(name), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// networkOf is the meshfed network name of a cluster.
func networkOf(c *clusters.Cluster) string { return c.Network }

const shopNS = "shop"

// install follows the README's "On real clusters" steps: images, CRDs and the hub on cluster-1,
// MCS CRDs and join for every member, a global Service web with backends in every cluster, and a
// waypoint per cluster reachable from the other network through its node's transit address.
func install(t *testing.T, set *clusters.Set) *user {
	t.Helper()
	ctx := t.Context()
	u := newUser(t, set)
	hub := &set.Clusters[0]

	// 1. Images, built with the local Docker engine and copied into every node.
	u.run(ctx, "make", "images")
	if err := set.LoadImages(ctx, "meshfed-hub:dev", "meshfed-waypoint:dev", "meshfed-dns:dev"); err != nil {
		t.Fatal(err)
	}
	// 2. CRDs and the hub (embedded store) on cluster-1; the MCS CRDs on every member.
	u.run(ctx, "kubectl", "--context", hub.Name, "apply", "-k", "deploy/crds")
	if err := applyEmbeddedHub(ctx, set, hub, u.root); err != nil {
		t.Fatal(err)
	}
	for i := range set.Clusters {
		u.run(ctx, "kubectl", "--context", set.Clusters[i].Name, "apply", "-k", "deploy/mcs")
	}
	// meshfed-dns in every member: the hub points the member's CoreDNS at its Service.
	dnsStart := time.Now()
	for i := range set.Clusters {
		u.run(ctx, "kubectl", "--context", set.Clusters[i].Name, "apply", "-k", "deploy/dns")
	}
	for i := range set.Clusters {
		u.run(ctx, "kubectl", "--context", set.Clusters[i].Name, "-n", "meshfed-system", "rollout", "status",
			"deployment/meshfed-dns", "--timeout=3m")
	}
	t.Logf("meshfed-dns rolled out in every member in %s", time.Since(dnsStart).Round(time.Second))
	// 3. Join every member with the API address the hub's pod reaches.
	for i := range set.Clusters {
		c := &set.Clusters[i]
		u.run(ctx, "meshfedctl", "join", c.Name, "--hub-context", hub.Name, "--member-context", c.Name,
			"--network", networkOf(c), "--member-server", c.APIServerURL())
	}
	// 4. A Service web in namespace shop of every cluster, exported globally.
	for i := range set.Clusters {
		c := &set.Clusters[i]
		if err := set.Apply(ctx, c, shopNS, set.EchoDeployment(c, shopNS, "web", 2)); err != nil {
			t.Fatal(err)
		}
		if err := set.Apply(ctx, c, "", webService); err != nil {
			t.Fatal(err)
		}
	}
	// 5. Waypoints: the store's address as pods of every cluster reach it, and an HBONE address
	// other networks reach (the node's transit address and the NodePort). No certificate step:
	// the hub issues each waypoint's store and HBONE certificates from its own CA.
	u.run(ctx, "kubectl", "--context", hub.Name, "-n", "meshfed-system", "patch", "service", "meshfed-hub",
		"-p", `{"spec":{"type":"NodePort"}}`)
	etcdPort := strings.TrimSpace(u.run(ctx, "kubectl", "--context", hub.Name, "-n", "meshfed-system", "get", "service",
		"meshfed-hub", "-o", `jsonpath={.spec.ports[?(@.name=="etcd-client")].nodePort}`))
	// https: waypoint apply issues each waypoint's store client certificate from the hub's CA.
	u.etcd = "https://" + hub.TransitIP.String() + ":" + etcdPort
	for i := range set.Clusters {
		c := &set.Clusters[i]
		// An HBONE Secret of an earlier run's own CA would be kept by the hub (it never replaces
		// a Secret it does not manage): remove it so that the hub issues this one.
		u.run(ctx, "kubectl", "--context", c.Name, "-n", shopNS, "delete", "secret", "--ignore-not-found",
			"--field-selector", "metadata.name=meshfed-waypoint-certs", "-l", "app.kubernetes.io/managed-by!=meshfed")
		u.waypointApply(ctx, c)
		hbonePort := strings.TrimSpace(u.run(ctx, "kubectl", "--context", c.Name, "-n", shopNS, "get", "service",
			"meshfed-waypoint", "-o", `jsonpath={.spec.ports[?(@.name=="hbone")].nodePort}`))
		u.run(ctx, "kubectl", "--context", c.Name, "-n", shopNS, "annotate", "--overwrite", "service", "meshfed-waypoint",
			"meshfed.io/hbone-address="+c.TransitIP.String()+":"+hbonePort)
	}
	for i := range set.Clusters {
		c := &set.Clusters[i]
		// Reused clusters keep running pods whose Deployment did not change: restart them so
		// that they load this run's certificates.
		u.run(ctx, "kubectl", "--context", c.Name, "-n", shopNS, "rollout", "restart", "deployment/meshfed-waypoint")
		u.run(ctx, "kubectl", "--context", c.Name, "-n", shopNS, "rollout", "status", "deployment/meshfed-waypoint", "--timeout=3m")
		for _, secret := range []string{"meshfed-waypoint-certs", "meshfed-waypoint-store"} {
			by := u.run(ctx, "kubectl", "--context", c.Name, "-n", shopNS, "get", "secret", secret,
				"-o", `jsonpath={.metadata.labels.app\.kubernetes\.io/managed-by}`)
			if strings.TrimSpace(by) != "meshfed" {
				t.Fatalf("%s: Secret %s is not the hub's (managed-by %q)", c.Name, secret, by)
			}
		}
		u.run(ctx, "kubectl", "--context", c.Name, "-n", shopNS, "rollout", "status", "deployment/web", "--timeout=3m")
	}
	return u
}

// waypointApply runs `meshfedctl waypoint apply` for namespace shop of cluster c as install
// does, with extra flags added.
func (u *user) waypointApply(ctx context.Context, c *clusters.Cluster, extra ...string) string {
	u.t.Helper()
	hub := &u.set.Clusters[0]
	args := append([]string{"waypoint", "apply", "-n", shopNS, "--hub-context", hub.Name, "--member-context", c.Name,
		"--cluster", c.Name, "--network", networkOf(c), "--etcd-endpoints", u.etcd, "--service-type", "NodePort",
		// The test's clusters share 2 cores for everything; this load is small.
		"--pod-rps", "250"}, extra...)
	return u.run(ctx, "meshfedctl", args...)
}

// applyEmbeddedHub applies deploy/hub-embedded (of the repository at root) on cluster hub and
// waits for its rollout. The store's serving certificate names the address the waypoints dial:
// the hub node's transit address.
func applyEmbeddedHub(ctx context.Context, set *clusters.Set, hub *clusters.Cluster, root string) error {
	for _, args := range [][]string{
		{"apply", "-k", filepath.Join(root, "deploy", "hub-embedded")},
		{"-n", "meshfed-system", "patch", "deployment", "meshfed-hub", "--type", "json",
			"-p", `[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--embedded-etcd-san=` + hub.TransitIP.String() + `"}]`},
		{"-n", "meshfed-system", "rollout", "status", "deployment/meshfed-hub", "--timeout=3m"},
	} {
		if _, err := set.Kubectl(ctx, hub, nil, args...); err != nil {
			return err
		}
	}
	return nil
}

const webService = `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: ` + shopNS + `
  labels:
    meshfed.io/service-scope: global
spec:
  selector: {app: web}
  ports:
    - {name: http, port: 80, targetPort: http}
`

// answers sends n requests from the client pod to url and counts the clusters that answered;
// failed requests are counted under "error".
func answers(ctx context.Context, set *clusters.Set, c *clusters.Cluster, pod, url string, n int) map[string]int {
	got := map[string]int{}
	for range n {
		out, err := set.Exec(ctx, c, shopNS, pod, "get", url)
		if err != nil {
			got["error"]++
			continue
		}
		cluster, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(out), "cluster="), " ")
		got[cluster]++
	}
	return got
}

// TestMeshfed installs meshfed on the real clusters as the README says, then checks that a
// client pod's requests to the global service are answered by backends of several clusters; that
// the pod calls it by its federation names and a global-only service by its cluster-local name,
// through the cluster's own CoreDNS (names_test.go); that no request fails when a waypoint pod
// is deleted, or cluster-1's backends are killed and scaled to 0, under traffic
// (traffic_test.go); that the waypoints placed on cluster-1's dedicated gateway nodes stay
// there and lose no request through a node drain and a scale-out (gateway_test.go); that requests cross into network B through HBONE when network A has
// no backend left; that one shared gateway per cluster carries two namespaces across networks
// through one address (shared_gateway_test.go); and last, with the hub replaced by the highly available one (deploy/hub on an
// etcd of its own), how long EndpointSlice changes wait across its handovers (hubha_test.go).
func TestMeshfed(t *testing.T) {
	set := realClusters(t)
	u := install(t, set)
	ctx := t.Context()
	c1, c2, c3 := &set.Clusters[0], &set.Clusters[1], &set.Clusters[2]

	if err := set.Apply(ctx, c1, shopNS, set.EchoDeployment(c1, shopNS, "client", 1)); err != nil {
		t.Fatal(err)
	}
	if err := set.Rollout(ctx, c1, shopNS, "client", 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	client, _, err := set.PodOf(ctx, c1, shopNS, "client")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://web-global." + shopNS + ".svc.cluster.local/"

	// The hub derives web-global once it has merged the exports and found the waypoint.
	var last map[string]int
	err = poll(ctx, 3*time.Minute, func() error {
		last = answers(ctx, set, c1, client, url, 40)
		if last[c1.Name] == 0 || last[c2.Name] == 0 || last["error"] > 0 {
			return fmt.Errorf("answers %v", last)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("requests from %s to %s are not answered by %s and %s without errors: %v", c1.Name, url, c1.Name, c2.Name, err)
	}
	t.Logf("network A: %v", last)
	if last[c3.Name] != 0 {
		t.Errorf("with backends on network A (PreferNetwork), %s answered %d requests", c3.Name, last[c3.Name])
	}

	m := &mesh{set: set, user: u, c1: c1, c2: c2, c3: c3, client: client}
	t.Run("WaypointLocalityFromNode", m.waypointLocalityFromNode)
	t.Run("Names", m.names)
	t.Run("Takeover", m.takeover)
	t.Run("WaypointPodDeleted", m.waypointPodDeleted)
	// Moves cluster-1's waypoints onto its dedicated gateway nodes, where they stay.
	t.Run("GatewayNodes", m.gatewayNodes)
	t.Run("HubPodDeleted", m.hubPodDeleted)
	t.Run("FailoverUnderTraffic", m.failoverUnderTraffic)
	// After the failover: cluster-1 has no backend left, so web is served by cluster-2 alone.
	t.Run("MemberAPIStopped", m.memberAPIStopped)

	t.Run("CrossNetworkThroughHBONE", func(t *testing.T) {
		for _, c := range []*clusters.Cluster{c1, c2} {
			if _, err := set.Kubectl(ctx, c, nil, "-n", shopNS, "scale", "deployment/web", "--replicas=0"); err != nil {
				t.Fatal(err)
			}
		}
		err := poll(ctx, 2*time.Minute, func() error {
			last = answers(ctx, set, c1, client, url, 20)
			if last[c3.Name] != 20 {
				return fmt.Errorf("answers %v", last)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("with no backend on network A, requests are not all answered by %s: %v", c3.Name, err)
		}
		t.Logf("network A scaled to 0: %v", last)
	})
	// bank and pay, served by one shared gateway per cluster (shared_gateway_test.go).
	t.Run("SharedGateway", m.sharedGateway)
	// Last: it replaces the hub with its embedded store (what the subtests above run on) by the
	// highly available one (handover_test.go).
	t.Run("HubHandoverHA", m.hubHandoverHA)
}

// waypointLocalityFromNode checks that each cluster's waypoint read its region and zone from
// its Node's labels through the API server, with the pod's service account, as it logs at start
// (no flag sets them in these clusters).
func (m *mesh) waypointLocalityFromNode(t *testing.T) {
	for _, c := range []*clusters.Cluster{m.c1, m.c2, m.c3} {
		logs, err := m.set.Kubectl(t.Context(), c, nil, "-n", shopNS, "logs", "deployment/meshfed-waypoint")
		if err != nil {
			t.Fatal(err)
		}
		var line string
		for l := range strings.SplitSeq(logs, "\n") {
			if strings.Contains(l, "locality from the Node") {
				line = l
			}
		}
		text := strings.Contains(line, "region="+c.Region+" ") && strings.Contains(line, "zone="+c.Zone+" ")
		json := strings.Contains(line, `"region":"`+c.Region+`"`) && strings.Contains(line, `"zone":"`+c.Zone+`"`)
		if !text && !json {
			t.Errorf("%s: the waypoint did not log region %s and zone %s from its Node; its log:\n%s", c.Name, c.Region, c.Zone, logs)
		}
	}
}
