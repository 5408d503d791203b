package clusters_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/meshfed/meshfed/cmd/meshfedctl/app/waypoint"
	"github.com/meshfed/meshfed/e2e/clusters"
)

// waypointSelector selects the waypoint pods of a namespace.
const waypointSelector = "app.kubernetes.io/name=meshfed-waypoint"

// gatewayNodes re-applies cluster-1's waypoint of namespace shop with the placement flags of
// dedicated gateway nodes (--node-selector, --toleration), as an operator would, and checks on
// cluster-1's two gateway nodes and two application nodes (clusters.DefaultWorkers) that:
//   - every waypoint pod runs on a gateway node, nothing else runs there, and the application's
//     pods run on the application nodes (Placement);
//   - `kubectl drain` of a gateway node carrying a waypoint pod, under traffic through the
//     waypoint, moves it to the other gateway node and fails no request (DrainUnderTraffic);
//   - raising the replicas under traffic adds a pod that becomes ready and carries requests,
//     and fails none (ScaleOutUnderTraffic). The clusters have no metrics-server, so a
//     HorizontalPodAutoscaler (--autoscale) would never act here: scaling out is tested by
//     raising the replicas, as the autoscaler would.
//
// The waypoints stay on the gateway nodes for the subtests that follow.
func (m *mesh) gatewayNodes(t *testing.T) {
	ctx := t.Context()
	var gateways, apps []string
	for _, n := range m.c1.Nodes {
		if slices.Contains(n.Labels, clusters.GatewayLabel) {
			gateways = append(gateways, n.Name)
		} else {
			apps = append(apps, n.Name)
		}
	}
	if len(gateways) != 2 || len(apps) != 2 {
		t.Fatalf("%s has gateway nodes %q and application nodes %q, want 2 of each", m.c1.Name, gateways, apps)
	}
	t.Cleanup(func() {
		for _, n := range gateways {
			if _, err := m.set.Kubectl(context.Background(), m.c1, nil, "uncordon", n); err != nil {
				t.Errorf("failed to uncordon %s: %v", n, err)
			}
		}
	})
	m.awaitTraffic(t) // when run alone, CoreDNS may not serve web's federation name yet
	key, value, _ := strings.Cut(clusters.GatewayLabel, "=")
	start := time.Now()
	m.user.waypointApply(ctx, m.c1, "--node-selector", clusters.GatewayLabel, "--toleration", key+"="+value+":NoSchedule")
	if err := m.set.Rollout(ctx, m.c1, shopNS, "meshfed-waypoint", 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	t.Logf("waypoints of %s moved onto the gateway nodes in %s", m.c1.Name, time.Since(start).Round(100*time.Millisecond))
	if !t.Run("Placement", func(t *testing.T) { m.placement(t, gateways, apps) }) {
		return
	}
	if !t.Run("DrainUnderTraffic", func(t *testing.T) { m.drainUnderTraffic(t, gateways) }) {
		return
	}
	t.Run("ScaleOutUnderTraffic", func(t *testing.T) { m.scaleOutUnderTraffic(t, gateways) })
}

// placement: the waypoint pods run on gateway nodes only, the gateway nodes run nothing else,
// and the application's pods (web, the client) run on application nodes.
func (m *mesh) placement(t *testing.T, gateways, apps []string) {
	ctx := t.Context()
	wps := m.livePods(t, "-n", shopNS, "-l", waypointSelector)
	if len(wps) != waypoint.DefaultReplicas {
		t.Errorf("%d waypoint pods, want %d", len(wps), waypoint.DefaultReplicas)
	}
	for _, p := range wps {
		if !slices.Contains(gateways, p.Spec.NodeName) {
			t.Errorf("waypoint pod %s runs on %s, not on a gateway node %q", p.Name, p.Spec.NodeName, gateways)
		}
	}
	t.Logf("waypoint pods: %s", placed(wps))
	app := m.livePods(t, "-n", shopNS, "-l", "app in (web,client)")
	if len(app) == 0 {
		t.Fatal("no pod of web or the client")
	}
	for _, p := range app {
		if !slices.Contains(apps, p.Spec.NodeName) {
			t.Errorf("application pod %s runs on %s, not on an application node %q", p.Name, p.Spec.NodeName, apps)
		}
	}
	t.Logf("application pods: %s", placed(app))
	for _, n := range gateways {
		for _, p := range m.livePods(t, "--all-namespaces", "--field-selector", "spec.nodeName="+n) {
			if p.Labels["app.kubernetes.io/name"] != "meshfed-waypoint" {
				t.Errorf("pod %s/%s runs on gateway node %s", p.Namespace, p.Name, n)
			}
		}
	}
	// The HBONE address annotated on the Service by hand survives apply's server-side apply.
	addr, err := m.set.Kubectl(ctx, m.c1, nil, "-n", shopNS, "get", "service", "meshfed-waypoint",
		"-o", `jsonpath={.metadata.annotations.meshfed\.io/hbone-address}`)
	if err != nil || !strings.HasPrefix(addr, m.c1.TransitIP.String()+":") {
		t.Errorf("the waypoint Service's HBONE address is %q after apply (%v)", addr, err)
	}
}

// drainUnderTraffic: a gateway node carrying a waypoint pod is drained (cordon, then eviction,
// which the waypoint's PodDisruptionBudget allows one pod at a time) while requests run through
// the waypoint; the pod moves to the other gateway node and no request fails.
func (m *mesh) drainUnderTraffic(t *testing.T, gateways []string) {
	ctx := t.Context()
	wps := m.livePods(t, "-n", shopNS, "-l", waypointSelector)
	if len(wps) == 0 {
		t.Fatal("no waypoint pod")
	}
	node := wps[0].Spec.NodeName
	other := gateways[0]
	if other == node {
		other = gateways[1]
	}
	var took time.Duration
	const n = 1000
	l, outlasted := m.underTrafficOutlasting(t, n, 20*time.Millisecond, func(ctx context.Context) error {
		start := time.Now()
		_, err := m.set.Kubectl(ctx, m.c1, nil, "drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=3m")
		took = time.Since(start)
		return err
	})
	t.Logf("%d requests to %s while gateway node %s (waypoint pods %s) was drained in %s: %s (in %s)",
		n, trafficURL, node, placed(wps), took.Round(100*time.Millisecond), l, l.Elapsed.Round(time.Millisecond))
	if l.Failed > 0 {
		t.Errorf("%d requests failed while %s was drained: %q", l.Failed, node, l.Errors)
	}
	if !outlasted {
		t.Errorf("the load ended before the drain did: its %d requests do not cover the drain", n)
	}
	if err := m.set.Rollout(ctx, m.c1, shopNS, "meshfed-waypoint", 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	after := m.livePods(t, "-n", shopNS, "-l", waypointSelector)
	for _, p := range after {
		if p.Spec.NodeName != other {
			t.Errorf("after the drain of %s, waypoint pod %s runs on %s, want %s", node, p.Name, p.Spec.NodeName, other)
		}
	}
	t.Logf("after the drain: %s", placed(after))
	if _, err := m.set.Kubectl(ctx, m.c1, nil, "uncordon", node); err != nil {
		t.Fatal(err)
	}
}

// scaleOutUnderTraffic: the waypoint Deployment is scaled from 2 to 3 pods while requests run
// through it; the new pod becomes ready and carries requests (its own request counter), and no
// request fails. It is scaled back to 2 in the end.
func (m *mesh) scaleOutUnderTraffic(t *testing.T, gateways []string) {
	ctx := t.Context()
	before := m.livePods(t, "-n", shopNS, "-l", waypointSelector)
	want := len(before) + 1
	var added string
	var ready, carrying time.Duration
	const n = 1000
	l, outlasted := m.underTrafficOutlasting(t, n, 20*time.Millisecond, func(ctx context.Context) error {
		start := time.Now()
		if _, err := m.set.Kubectl(ctx, m.c1, nil, "-n", shopNS, "scale", "deployment/meshfed-waypoint", "--replicas="+strconv.Itoa(want)); err != nil {
			return err
		}
		if err := m.set.Rollout(ctx, m.c1, shopNS, "meshfed-waypoint", 2*time.Minute); err != nil {
			return err
		}
		ready = time.Since(start)
		for _, p := range m.livePods(t, "-n", shopNS, "-l", waypointSelector) {
			if !slices.ContainsFunc(before, func(b corev1.Pod) bool { return b.Name == p.Name }) {
				added = p.Name
			}
		}
		if added == "" {
			return fmt.Errorf("no new waypoint pod after scaling to %d", want)
		}
		// The load is still running: wait until the new pod has carried some of it.
		err := poll(ctx, 20*time.Second, func() error {
			got, err := m.waypointRequests(ctx, added)
			if err == nil && got == 0 {
				err = fmt.Errorf("pod %s has carried no request yet", added)
			}
			return err
		})
		carrying = time.Since(start)
		return err
	})
	t.Logf("%d requests to %s while the waypoint was scaled from %d to %d pods (new pod %s ready after %s, carrying requests after %s): %s (in %s)",
		n, trafficURL, len(before), want, added, ready.Round(100*time.Millisecond), carrying.Round(100*time.Millisecond), l, l.Elapsed.Round(time.Millisecond))
	if l.Failed > 0 {
		t.Errorf("%d requests failed while the waypoint scaled out: %q", l.Failed, l.Errors)
	}
	if !outlasted {
		t.Errorf("the load ended before the new pod carried requests: its %d requests do not cover the scale-out", n)
	}
	if added != "" {
		got, err := m.waypointRequests(ctx, added)
		t.Logf("the new pod %s carried %d requests (%v)", added, got, err)
	}
	after := m.livePods(t, "-n", shopNS, "-l", waypointSelector)
	for _, p := range after {
		if !slices.Contains(gateways, p.Spec.NodeName) {
			t.Errorf("after the scale-out, waypoint pod %s runs on %s, not on a gateway node", p.Name, p.Spec.NodeName)
		}
	}
	t.Logf("after the scale-out: %s", placed(after))
	if _, err := m.set.Kubectl(ctx, m.c1, nil, "-n", shopNS, "scale", "deployment/meshfed-waypoint", "--replicas="+strconv.Itoa(len(before))); err != nil {
		t.Fatal(err)
	}
	if err := m.set.Rollout(ctx, m.c1, shopNS, "meshfed-waypoint", 3*time.Minute); err != nil {
		t.Fatal(err)
	}
}

// livePods lists cluster-1's pods that kubectl get pods selects with args, leaving out those
// being deleted and those that have ended.
func (m *mesh) livePods(t *testing.T, args ...string) []corev1.Pod {
	t.Helper()
	out, err := m.set.Kubectl(t.Context(), m.c1, nil, append([]string{"get", "pods", "-o", "json"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	var list corev1.PodList
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("failed to parse the pod list: %v", err)
	}
	var live []corev1.Pod
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			live = append(live, p)
		}
	}
	return live
}

// placed is "pod@node ..." for the log.
func placed(pods []corev1.Pod) string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name+"@"+p.Spec.NodeName)
	}
	return strings.Join(out, " ")
}

// waypointRequests is how many requests (answered 200) and connections (connected) waypoint pod
// of namespace shop has carried, from its /metrics (through the API server's pod proxy).
func (m *mesh) waypointRequests(ctx context.Context, pod string) (int, error) {
	out, err := m.set.Kubectl(ctx, m.c1, nil, "get", "--raw",
		fmt.Sprintf("/api/v1/namespaces/%s/pods/%s:%d/proxy/metrics", shopNS, pod, waypoint.AdminPort))
	if err != nil {
		return 0, err
	}
	total := 0.0
	for line := range strings.Lines(out) {
		carried := strings.HasPrefix(line, "meshfed_waypoint_requests_total{") && strings.Contains(line, `code="200"`) ||
			strings.HasPrefix(line, "meshfed_waypoint_connections_total{") && strings.Contains(line, `result="connected"`)
		if !carried {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			return 0, fmt.Errorf("failed to parse metric line %q: %w", line, err)
		}
		total += v
	}
	return int(total), nil
}
