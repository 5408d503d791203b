package clusters_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meshfed/meshfed/e2e/clusters"
)

// trafficURL is what the traffic scenarios call: web by its federation name, so that every
// request resolves it through the cluster's DNS as well.
const trafficURL = "http://web." + shopNS + ".mesh.internal/"

// underTraffic sends n requests from the client pod, interval apart, each on a new connection,
// and runs disrupt once the first ones went through; it returns the load's summary.
func (m *mesh) underTraffic(t *testing.T, n int, interval time.Duration, disrupt func(ctx context.Context) error) loop {
	t.Helper()
	l, _ := m.underTrafficOutlasting(t, n, interval, disrupt)
	return l
}

// underTrafficOutlasting is underTraffic that also reports whether the load was still running
// when disrupt returned, that is whether its requests cover the whole disruption.
func (m *mesh) underTrafficOutlasting(t *testing.T, n int, interval time.Duration, disrupt func(ctx context.Context) error) (loop, bool) {
	t.Helper()
	ctx := t.Context()
	done := make(chan struct{})
	var l loop
	var err error
	go func() {
		defer close(done)
		l, err = m.run(ctx, m.c1, m.client, "load", trafficURL, strconv.Itoa(n), interval.String())
	}()
	select {
	case <-done:
		t.Fatalf("the load ended before the disruption: %v %s", err, l)
	case <-time.After(3 * time.Second):
	}
	if derr := disrupt(ctx); derr != nil {
		t.Error(derr)
	}
	outlasted := true
	select {
	case <-done:
		outlasted = false
	default:
	}
	<-done
	if err != nil {
		t.Fatal(err)
	}
	return l, outlasted
}

// pods lists the names of the running pods matching selector in namespace ns of cluster c.
func (m *mesh) pods(ctx context.Context, c *clusters.Cluster, ns, selector string) ([]string, error) {
	out, err := m.set.Kubectl(ctx, c, nil, "-n", ns, "get", "pods", "-l", selector,
		"--field-selector=status.phase=Running", "-o", "jsonpath={.items[*].metadata.name}")
	if err != nil {
		return nil, err
	}
	return strings.Fields(out), nil
}

// waypointPodDeleted: one of cluster-1's two waypoint pods is deleted (gracefully, as a node
// drain or a rollout does) under traffic; the other carries on and no request fails.
func (m *mesh) waypointPodDeleted(t *testing.T) {
	ctx := t.Context()
	pods, err := m.pods(ctx, m.c1, shopNS, "app.kubernetes.io/name=meshfed-waypoint")
	if err != nil || len(pods) < 2 {
		t.Fatalf("want 2 running waypoint pods in %s, got %q (%v)", m.c1.Name, pods, err)
	}
	l := m.underTraffic(t, 300, 20*time.Millisecond, func(ctx context.Context) error {
		_, err := m.set.Kubectl(ctx, m.c1, nil, "-n", shopNS, "delete", "pod", pods[0], "--wait=false")
		return err
	})
	t.Logf("300 requests to %s while waypoint pod %s was deleted: %s (in %s)", trafficURL, pods[0], l, l.Elapsed.Round(time.Millisecond))
	if l.Failed > 0 {
		t.Errorf("%d requests failed while a waypoint pod was deleted: %q", l.Failed, l.Errors)
	}
	if err := m.set.Rollout(ctx, m.c1, shopNS, "meshfed-waypoint", 3*time.Minute); err != nil {
		t.Fatal(err)
	}
}

// failoverUnderTraffic: a backend pod of cluster-1 is killed (deleted with no grace), then
// cluster-1's web is scaled to 0, under traffic; requests move to cluster-2 and none fails.
func (m *mesh) failoverUnderTraffic(t *testing.T) {
	ctx := t.Context()
	pods, err := m.pods(ctx, m.c1, shopNS, "app=web")
	if err != nil || len(pods) == 0 {
		t.Fatalf("no running web pod in %s: %q (%v)", m.c1.Name, pods, err)
	}
	l := m.underTraffic(t, 400, 20*time.Millisecond, func(ctx context.Context) error {
		if _, err := m.set.Kubectl(ctx, m.c1, nil, "-n", shopNS, "delete", "pod", pods[0], "--grace-period=0", "--force", "--wait=false"); err != nil {
			return err
		}
		time.Sleep(3 * time.Second)
		_, err := m.set.Kubectl(ctx, m.c1, nil, "-n", shopNS, "scale", "deployment/web", "--replicas=0")
		return err
	})
	t.Logf("400 requests to %s while a backend of %s was killed and then web scaled to 0 there: %s (in %s)",
		trafficURL, m.c1.Name, l, l.Elapsed.Round(time.Millisecond))
	if l.Failed > 0 {
		t.Errorf("%d requests failed during the failover: %q", l.Failed, l.Errors)
	}
	if l.Answers[m.c2.Name] == 0 {
		t.Errorf("no request was answered by %s after %s's backends went away: %s", m.c2.Name, m.c1.Name, l)
	}
}
