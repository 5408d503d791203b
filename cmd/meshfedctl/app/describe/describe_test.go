package describe_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	wptable "github.com/meshfed/meshfed/waypoint/table"
)

// TestDescribeGlobalService describes shop/web from a real hub API server and a real
// federation store: the object alone, with endpoints, and with priority tiers from several
// viewpoints while endpoints turn unready.
func TestDescribeGlobalService(t *testing.T) {
	e := startEnv(t)
	checkErrors(t, e)

	t.Run("-n and NAMESPACE/NAME", func(t *testing.T) {
		if a, b := mustDescribe(t, e, "web", "-n", "shop"), mustDescribe(t, e, "shop/web"); a != b {
			t.Errorf("describe web -n shop and describe shop/web differ:\n%s\n---\n%s", a, b)
		}
	})

	t.Run("object only", func(t *testing.T) {
		out := mustDescribe(t, e, "shop/web")
		for _, want := range []string{
			"Hostname:", "web.shop.mesh.internal", "Traffic Distribution:  PreferClose",
			"Imported By:           east-1, east-2, lone-1, west-1",
			"TrafficDistributionConflict  east-1,east-2  east-2 asks for PreferRegion",
			"Conflict  True    TrafficDistributionConflict",
			"west-1   segment  1/1    no waypoint in namespace",
			"endpoint detail needs the federation store",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if !regexp.MustCompile(`(?m)^\s+http\s+80\s+TCP\s+http\s+20000$`).MatchString(out) {
			t.Errorf("ports lack http 80 TCP http 20000:\n%s", out)
		}
		if strings.Contains(out, "10.1.0.1") || strings.Contains(out, "Tier") {
			t.Errorf("endpoints or tiers printed without the store:\n%s", out)
		}
	})

	t.Run("endpoints", func(t *testing.T) {
		out := mustDescribe(t, e, "shop/web", "--etcd-endpoints", e.etcd)
		for _, want := range []string{
			"east-1 (scope global, 2/2 healthy):",
			"west-1 (scope segment, 1/1 healthy):",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if !regexp.MustCompile(`(?m)^\s+10\.3\.0\.1\s+http:8080\s+net-b\s+us\s+us-1\s+-\s+n-1\s+healthy$`).MatchString(out) {
			t.Errorf("endpoint row of 10.3.0.1 missing or wrong:\n%s", out)
		}
		if strings.Contains(out, "Tier") {
			t.Errorf("tiers printed without --from:\n%s", out)
		}
	})

	healthy := []struct {
		name, from string
		want       []tier
		hidden     []string
	}{
		{"same zone first", "east-1/eu-1", []tier{
			{load: 100, healthy: "2/2", panic: "no", addrs: []string{"10.1.0.1", "10.1.0.2"}},
			{load: 0, healthy: "2/2", panic: "no", addrs: []string{"10.2.0.1", "10.2.0.2"}},
		}, []string{"west-1 (scope segment)"}},
		{"other zone of the region", "east-2/eu-2", []tier{
			{load: 100, healthy: "2/2", panic: "no", addrs: []string{"10.2.0.1", "10.2.0.2"}},
			{load: 0, healthy: "2/2", panic: "no", addrs: []string{"10.1.0.1", "10.1.0.2"}},
		}, []string{"west-1 (scope segment)"}},
		{"no zone: region only", "east-1", []tier{
			{load: 100, healthy: "4/4", panic: "no", addrs: []string{"10.1.0.1", "10.1.0.2", "10.2.0.1", "10.2.0.2"}},
		}, []string{"west-1 (scope segment)"}},
		{"own network first, segment export visible", "west-1/us-1", []tier{
			{load: 100, healthy: "1/1", panic: "no", addrs: []string{"10.3.0.1"}},
			{load: 0, healthy: "4/4", panic: "no", addrs: []string{"10.1.0.1", "10.1.0.2", "10.2.0.1", "10.2.0.2"}},
		}, nil},
	}
	for _, tt := range healthy {
		t.Run(tt.name, func(t *testing.T) {
			out := mustDescribe(t, e, "shop/web", "--etcd-endpoints", e.etcd, "--from", tt.from)
			checkTiers(t, out, tt.want)
			for _, h := range tt.hidden {
				if !strings.Contains(out, "Not visible: "+h) {
					t.Errorf("output does not report %s as not visible:\n%s", h, out)
				}
			}
		})
	}

	// A waypoint reaches another network only through a waypoint of the endpoint's cluster:
	// without an address in the store, east-2's endpoints are listed as not routed.
	t.Run("other network without a waypoint address", func(t *testing.T) {
		e.put(t, waypointsRecord("east-2", "net-a"))
		out := mustDescribe(t, e, "shop/web", "--etcd-endpoints", e.etcd, "--from", "west-1/us-1")
		e.put(t, waypointsRecord("east-2", "net-a", "192.0.2.2:15008"))
		checkTiers(t, out, []tier{
			{load: 100, healthy: "1/1", panic: "no", addrs: []string{"10.3.0.1"}},
			{load: 0, healthy: "2/2", panic: "no", addrs: []string{"10.1.0.1", "10.1.0.2"}},
		})
		for _, addr := range []string{"10.2.0.1", "10.2.0.2"} {
			if !strings.Contains(out, "Not routed: "+addr+" (east-2): "+wptable.SkipNoWaypoint) {
				t.Errorf("output does not list %s as not routed:\n%s", addr, out)
			}
		}
	})

	t.Run("does not import", func(t *testing.T) {
		e.put(t, serviceRecord("lone-1"))
		out := mustDescribe(t, e, "shop/web", "--etcd-endpoints", e.etcd, "--from", "lone-1")
		e.put(t, serviceRecord(""))
		if !strings.Contains(out, "lone-1 does not import this service") || strings.Contains(out, "Tier 0") {
			t.Errorf("lone-1 without import:\n%s", out)
		}
	})

	// Half of tier 0 unready: health 70% + 100% ⇒ 70/30, no panic (NTA is 100).
	e.putEndpoints(t, "east-1", model.ScopeGlobal, ep("10.1.0.1", "net-a", "eu", "eu-1", true), ep("10.1.0.2", "net-a", "eu", "eu-1", false))
	out := mustDescribe(t, e, "shop/web", "--etcd-endpoints", e.etcd, "--from", "east-1/eu-1")
	t.Logf("meshfedctl describe globalservice shop/web --from east-1/eu-1:\n%s", out)
	checkTiers(t, out, []tier{
		{load: 70, healthy: "1/2", panic: "no", addrs: []string{"10.1.0.1", "10.1.0.2"}},
		{load: 30, healthy: "2/2", panic: "no", addrs: []string{"10.2.0.1", "10.2.0.2"}},
	})
	if !regexp.MustCompile(`(?m)^\s+10\.1\.0\.2\s+east-1\s+net-a\s+eu\s+eu-1\s+-\s+n-2\s+not ready$`).MatchString(out) {
		t.Errorf("tier row of the unready endpoint missing or wrong:\n%s", out)
	}

	// Nothing healthy anywhere: every tier panics and load follows endpoint counts.
	e.putEndpoints(t, "east-1", model.ScopeGlobal, ep("10.1.0.1", "net-a", "eu", "eu-1", false), ep("10.1.0.2", "net-a", "eu", "eu-1", false))
	e.putEndpoints(t, "east-2", model.ScopeGlobal, ep("10.2.0.1", "net-a", "eu", "eu-2", false), ep("10.2.0.2", "net-a", "eu", "eu-2", false))
	out = mustDescribe(t, e, "shop/web", "--etcd-endpoints", e.etcd, "--from", "east-1/eu-1")
	checkTiers(t, out, []tier{
		{load: 50, healthy: "0/2", panic: "yes", addrs: []string{"10.1.0.1", "10.1.0.2"}},
		{load: 50, healthy: "0/2", panic: "yes", addrs: []string{"10.2.0.1", "10.2.0.2"}},
	})
	if !strings.Contains(out, "Every tier is in panic") {
		t.Errorf("total panic not reported:\n%s", out)
	}
	if strings.Contains(out, "Load policy:") {
		t.Errorf("a service with the default policy printed one:\n%s", out)
	}
	checkLoadPolicy(t, e)
}

// checkLoadPolicy: a service's load policy from the store is shown and changes the split as a
// waypoint computes it.
func checkLoadPolicy(t *testing.T, e *env) {
	t.Helper()
	factor, off := uint32(200), uint32(0)
	withPolicy := serviceRecord("")
	withPolicy.LoadPolicy = &store.StoredLoadPolicy{OverprovisioningFactor: &factor, PanicThreshold: &off}
	e.put(t, withPolicy)
	defer e.put(t, serviceRecord(""))
	// Nothing healthy, panic off: tier 0 takes all the load and nothing panics.
	out := mustDescribe(t, e, "shop/web", "--etcd-endpoints", e.etcd, "--from", "east-1/eu-1")
	checkTiers(t, out, []tier{
		{load: 100, healthy: "0/2", panic: "no", addrs: []string{"10.1.0.1", "10.1.0.2"}},
		{load: 0, healthy: "0/2", panic: "no", addrs: []string{"10.2.0.1", "10.2.0.2"}},
	})
	if want := "Load policy: overprovisioning factor 200% (default 140%), panic threshold off (default 50%)"; !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
	// Half of tier 0 healthy: factor 2 makes it whole (100/0; the default 1.4 gives 70/30).
	e.putEndpoints(t, "east-1", model.ScopeGlobal, ep("10.1.0.1", "net-a", "eu", "eu-1", true), ep("10.1.0.2", "net-a", "eu", "eu-1", false))
	e.putEndpoints(t, "east-2", model.ScopeGlobal, ep("10.2.0.1", "net-a", "eu", "eu-2", true), ep("10.2.0.2", "net-a", "eu", "eu-2", true))
	out = mustDescribe(t, e, "shop/web", "--etcd-endpoints", e.etcd, "--from", "east-1/eu-1")
	checkTiers(t, out, []tier{
		{load: 100, healthy: "1/2", panic: "no", addrs: []string{"10.1.0.1", "10.1.0.2"}},
		{load: 0, healthy: "2/2", panic: "no", addrs: []string{"10.2.0.1", "10.2.0.2"}},
	})
	// Remote endpoints aggregated alone is a policy of its own, shown with its default.
	aggregated := serviceRecord("")
	aggregated.LoadPolicy = &store.StoredLoadPolicy{RemoteEndpoints: string(model.RemoteEndpointsAggregated)}
	e.put(t, aggregated)
	out = mustDescribe(t, e, "shop/web", "--etcd-endpoints", e.etcd, "--from", "east-1/eu-1")
	if want := "Load policy: remote endpoints aggregated (default each)\n"; !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
}

// checkErrors: bad input fails with an error naming the problem, and prints nothing.
func checkErrors(t *testing.T, e *env) {
	t.Helper()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad name", []string{"shop/web/x"}, "want NAME or NAMESPACE/NAME"},
		{"namespaces disagree", []string{"shop/web", "-n", "other"}, `namespace "shop" in "shop/web" and -n "other" disagree`},
		{"not in the context's namespace", []string{"web"}, "failed to get global service default/web"},
		{"unknown service", []string{"shop/nope"}, "failed to get global service shop/nope"},
		{"from without store", []string{"shop/web", "--from", "east-1"}, "--from needs the federation store"},
		{"bad from", []string{"shop/web", "--from", "east-1/", "--etcd-endpoints", e.etcd}, "want CLUSTER or CLUSTER/ZONE"},
		{"unknown cluster", []string{"shop/web", "--from", "mars-1", "--etcd-endpoints", e.etcd}, "failed to get member cluster mars-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := e.describe(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if out != "" {
				t.Errorf("printed output before failing:\n%s", out)
			}
		})
	}
}

// tier is one tier as describe prints it.
type tier struct {
	load    int
	healthy string
	panic   string
	addrs   []string
}

func (t tier) String() string {
	return fmt.Sprintf("load %d%% healthy %s panic %s %v", t.load, t.healthy, t.panic, t.addrs)
}

var (
	tierLine = regexp.MustCompile(`^\s+Tier (\d+): load (\d+)% \(\d+% to degraded\), (\d+/\d+) healthy, \d+ degraded, health \d+%, panic (yes|no)$`)
	addrLine = regexp.MustCompile(`^\s+(\d+\.\d+\.\d+\.\d+)\s`)
)

// checkTiers parses the tier section of describe's output and compares it with want.
func checkTiers(t *testing.T, out string, want []tier) {
	t.Helper()
	_, section, ok := strings.Cut(out, "Tiers from ")
	if !ok {
		t.Fatalf("no tier section:\n%s", out)
	}
	var got []tier
	for line := range strings.Lines(section) {
		line = strings.TrimRight(line, "\n")
		if m := tierLine.FindStringSubmatch(line); m != nil {
			var load int
			fmt.Sscan(m[2], &load)
			got = append(got, tier{load: load, healthy: m[3], panic: m[4]})
			continue
		}
		if m := addrLine.FindStringSubmatch(line); m != nil && len(got) > 0 {
			got[len(got)-1].addrs = append(got[len(got)-1].addrs, m[1])
		}
	}
	if !slices.EqualFunc(got, want, func(a, b tier) bool { return a.String() == b.String() }) {
		t.Errorf("tiers = %v, want %v\n%s", got, want, out)
	}
}

func mustDescribe(t *testing.T, e *env, args ...string) string {
	t.Helper()
	out, err := e.describe(t, args...)
	if err != nil {
		t.Fatalf("meshfedctl describe %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}
