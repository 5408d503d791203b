package clusters_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/e2e/clusters"
)

// mesh is TestMeshfed's installation: web exported globally from every cluster, and a client
// pod in cluster-1.
type mesh struct {
	set        *clusters.Set
	user       *user
	c1, c2, c3 *clusters.Cluster
	client     string
}

// loop is the JSON summary of the echo image's `lookups` and `load` subcommands.
type loop struct {
	Answers map[string]int `json:"answers"`
	Failed  int            `json:"failed"`
	Errors  []string       `json:"errors"`
	P50     time.Duration  `json:"p50"`
	P99     time.Duration  `json:"p99"`
	Max     time.Duration  `json:"max"`
	Elapsed time.Duration  `json:"elapsed"`
}

func (l loop) String() string {
	return fmt.Sprintf("answers %v, %d failed %q, p50 %s p99 %s max %s", l.Answers, l.Failed, l.Errors,
		l.P50.Round(10*time.Microsecond), l.P99.Round(10*time.Microsecond), l.Max.Round(10*time.Microsecond))
}

// run runs one of the echo image's loops in pod of cluster c (namespace shop).
func (m *mesh) run(ctx context.Context, c *clusters.Cluster, pod string, args ...string) (loop, error) {
	var l loop
	out, err := m.set.Exec(ctx, c, shopNS, pod, args...)
	if err != nil {
		return l, err
	}
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		return l, fmt.Errorf("failed to parse the summary %q: %w", out, err)
	}
	return l, nil
}

// lookup resolves name once in pod of cluster c; "" and the error when it does not resolve.
func (m *mesh) lookup(ctx context.Context, c *clusters.Cluster, pod, name string) (string, error) {
	out, err := m.set.Exec(ctx, c, shopNS, pod, "lookup", name)
	return strings.TrimSpace(out), err
}

// expectLookup checks a lookup's result: expectLookup(m.lookup(...))(name, want).
func expectLookup(got string, err error) func(name, want string) error {
	return func(name, want string) error {
		if err != nil {
			return fmt.Errorf("failed to look up %s: %w", name, err)
		}
		if got != want {
			return fmt.Errorf("%s resolves to %q, want %s", name, got, want)
		}
		return nil
	}
}

// logDNS logs what a failed lookup in cluster c depends on: the Corefile in CoreDNS's
// ConfigMap (with or without meshfed's block), and the last lines CoreDNS and meshfed-dns
// logged.
func (m *mesh) logDNS(t *testing.T, c *clusters.Cluster) {
	t.Helper()
	ctx := context.Background()
	for _, args := range [][]string{
		{"-n", "kube-system", "get", "configmap", "coredns", "-o", "jsonpath={.data.Corefile}"},
		{"-n", "kube-system", "logs", "deployment/coredns", "--tail=30"},
		{"-n", wellknown.SystemNamespace, "logs", "deployment/" + wellknown.DNSName, "--tail=30"},
	} {
		out, err := m.set.Kubectl(ctx, c, nil, args...)
		t.Logf("%s: kubectl %s (%v):\n%s", c.Name, strings.Join(args, " "), err, out)
	}
}

// clusterIP is the ClusterIP of Service shop/name in cluster c ("" when there is none).
func (m *mesh) clusterIP(ctx context.Context, c *clusters.Cluster, name string) string {
	out, err := m.set.Kubectl(ctx, c, nil, "-n", shopNS, "get", "service", name, "--ignore-not-found", "-o", "jsonpath={.spec.clusterIP}")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// names: the client resolves web by its federation names through cluster-1's CoreDNS (which
// forwards them to meshfed-dns, as the hub's block in the coredns ConfigMap says) to
// web-global's ClusterIP, and calls web by those names; a pod of cluster-3 resolves the same
// names to cluster-3's own web-global.
func (m *mesh) names(t *testing.T) {
	ctx := t.Context()
	derived := m.clusterIP(ctx, m.c1, wellknown.DerivedServiceName("web"))
	if derived == "" {
		t.Fatalf("no Service %s in %s", wellknown.DerivedServiceName("web"), m.c1.Name)
	}
	names := []string{"web." + shopNS + ".mesh.internal", "web." + shopNS + ".svc.clusterset.local"}
	start := time.Now()
	for _, name := range names {
		err := poll(ctx, 3*time.Minute, func() error {
			return expectLookup(m.lookup(ctx, m.c1, m.client, name))(name, derived)
		})
		if err != nil {
			m.logDNS(t, m.c1)
			t.Fatalf("%s: %v", m.c1.Name, err)
		}
	}
	t.Logf("%s: both names resolve to web-global %s (%s after the first check)", m.c1.Name, derived, time.Since(start).Round(time.Second))

	for _, name := range names {
		l, err := m.run(ctx, m.c1, m.client, "lookups", name, "100")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("100 lookups of %s: %s", name, l)
		if l.Failed > 0 || l.Answers[derived] != 100 {
			t.Errorf("lookups of %s: %s, want 100 × %s", name, l, derived)
		}
		l, err = m.run(ctx, m.c1, m.client, "load", "http://"+name+"/", "40", "0s")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("40 requests to http://%s/: %s", name, l)
		if l.Failed > 0 || l.Answers[m.c1.Name] == 0 || l.Answers[m.c2.Name] == 0 {
			t.Errorf("requests to http://%s/: %s, want answers from %s and %s and none failed", name, l, m.c1.Name, m.c2.Name)
		}
	}

	// Each member answers with its own derived Service.
	pod3, _, err := m.set.PodOf(ctx, m.c3, shopNS, "web")
	if err != nil {
		t.Fatal(err)
	}
	derived3 := m.clusterIP(ctx, m.c3, wellknown.DerivedServiceName("web"))
	// As long as for cluster-1: CoreDNS loads meshfed's block only after the kubelet has
	// updated its ConfigMap volume (its pod sync, every minute by default) and its reload
	// plugin has seen the change (every 30 s): up to about 1 min 45 s after the hub wrote it.
	start = time.Now()
	for _, name := range names {
		err := poll(ctx, 3*time.Minute, func() error {
			return expectLookup(m.lookup(ctx, m.c3, pod3, name))(name, derived3)
		})
		if err != nil {
			t.Errorf("%s: %v", m.c3.Name, err)
			m.logDNS(t, m.c3)
		}
	}
	t.Logf("%s: both names resolve to its own web-global %s (%s after the first check)", m.c3.Name, derived3, time.Since(start).Round(time.Second))
}

// apiService is Service shop/api in front of the web pods, with the scope label when scope is
// not "".
func apiService(scope string) string {
	labels := ""
	if scope != "" {
		labels = "\n  labels:\n    " + wellknown.ServiceScopeKey + ": " + scope
	}
	return `apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: ` + shopNS + labels + `
spec:
  selector: {app: web}
  ports:
    - {name: http, port: 80, targetPort: http}
`
}

// takeover: cluster-1 has a Service api of its own, not exported; cluster-2 exports api as
// global-only, which takes the plain name api.shop.svc.cluster.local over in cluster-1 (the
// client's requests reach cluster-2's backends); with the scope removed, the name is
// cluster-1's own Service again, and no lookup fails in between.
func (m *mesh) takeover(t *testing.T) {
	ctx := t.Context()
	if err := m.set.Apply(ctx, m.c1, "", apiService("")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, c := range []*clusters.Cluster{m.c1, m.c2} {
			_, _ = m.set.Kubectl(context.Background(), c, nil, "-n", shopNS, "delete", "service", "api", "--ignore-not-found")
		}
	})
	local := m.clusterIP(ctx, m.c1, "api")
	name := "api." + shopNS + ".svc.cluster.local"
	if got, err := m.lookup(ctx, m.c1, m.client, name); err != nil || got != local {
		t.Fatalf("before the export, %s resolves to %q (%v), want the local Service %s", name, got, err, local)
	}

	start := time.Now()
	if err := m.set.Apply(ctx, m.c2, "", apiService("global-only")); err != nil {
		t.Fatal(err)
	}
	// The GlobalService must not report the takeover active before the name really resolves to
	// the global service (CoreDNS loads the hub's block up to ~2 minutes after it is written).
	activeIn := func() string {
		out, _ := m.set.Kubectl(ctx, m.c1, nil, "-n", shopNS, "get", "globalservice", "api", "-o", "jsonpath={.status.takeoverActiveIn}")
		return out
	}
	var derived string
	ahead := 0
	err := poll(ctx, 4*time.Minute, func() error {
		derived = m.clusterIP(ctx, m.c1, wellknown.DerivedServiceName("api"))
		if derived == "" {
			return fmt.Errorf("no Service %s yet", wellknown.DerivedServiceName("api"))
		}
		err := expectLookup(m.lookup(ctx, m.c1, m.client, name))(name, derived)
		if err != nil && strings.Contains(activeIn(), m.c1.Name) {
			ahead++
		}
		return err
	})
	if err != nil {
		t.Fatalf("takeover: %v", err)
	}
	t.Logf("takeover: %s resolves to api-global %s %s after the export", name, derived, time.Since(start).Round(time.Second))
	if ahead > 0 {
		t.Errorf("GlobalService shop/api reported the takeover active in %s in %d checks while %s did not resolve to the global service yet", m.c1.Name, ahead, name)
	}
	resolved := time.Now()
	if err := poll(ctx, 30*time.Second, func() error {
		if a := activeIn(); !strings.Contains(a, m.c1.Name) {
			return fmt.Errorf("GlobalService shop/api: takeoverActiveIn %q, want %s in it", a, m.c1.Name)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
	t.Logf("takeover: the GlobalService reported it active %s after the name resolved", time.Since(resolved).Round(time.Second))
	l, err := m.run(ctx, m.c1, m.client, "load", "http://"+name+"/", "30", "0s")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("30 requests to http://%s/ under takeover: %s", name, l)
	if l.Failed > 0 || l.Answers[m.c2.Name] != 30 {
		t.Errorf("under takeover, requests to http://%s/: %s, want all answered by %s (the global service's only backends)", name, l, m.c2.Name)
	}

	// The scope removed, the name is given back: lookups see api-global, then the local
	// Service, and nothing else.
	start = time.Now()
	if _, err := m.set.Kubectl(ctx, m.c2, nil, "-n", shopNS, "label", "service", "api", wellknown.ServiceScopeKey+"-"); err != nil {
		t.Fatal(err)
	}
	var lookups, failed int
	var errs []string
	err = poll(ctx, 4*time.Minute, func() error {
		lookups++
		got, err := m.lookup(ctx, m.c1, m.client, name)
		switch {
		case err != nil || (got != derived && got != local):
			failed++
			if len(errs) < 5 {
				errs = append(errs, fmt.Sprintf("%s: %q %v", time.Since(start).Round(time.Second), got, err))
			}
		case got == local:
			return nil
		}
		return fmt.Errorf("%s resolves to %q", name, got)
	})
	if err != nil {
		t.Fatalf("release: %v", err)
	}
	t.Logf("release: %s resolves to the local Service %s %s after the scope was removed (%d lookups, %d failed)",
		name, local, time.Since(start).Round(time.Second), lookups, failed)
	if failed > 0 {
		t.Errorf("%d of %d lookups of %s failed or got another address during the release: %q", failed, lookups, name, errs)
	}
	l, err = m.run(ctx, m.c1, m.client, "load", "http://"+name+"/", "20", "0s")
	if err != nil {
		t.Fatal(err)
	}
	if l.Failed > 0 || l.Answers[m.c1.Name] != 20 {
		t.Errorf("after the release, requests to http://%s/: %s, want all answered by %s", name, l, m.c1.Name)
	}
}
