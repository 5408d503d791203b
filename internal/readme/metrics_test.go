package readme

import (
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	_ "github.com/meshfed/meshfed/federation/controller" // registers the hub's metrics
	"github.com/meshfed/meshfed/waypoint"
)

// metricName finds the names meshfed's own metrics are declared with in Go source.
var metricName = regexp.MustCompile(`(?:Name:\s*|NewDesc\()\s*"(meshfed_[a-z0-9_]+)"`)

// TestREADMEListsEveryMetric: every meshfed_* metric declared in the code has a row in the
// README's metrics table (and no row names a metric that does not exist), and every metric the
// hub's and the waypoint's /metrics serve is either such a row or in a family the README names
// (`go_*`, …).
func TestREADMEListsEveryMetric(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	_, section, ok := strings.Cut(readme, "\n## Metrics\n")
	if !ok {
		t.Fatal("README.md has no ## Metrics section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	rows := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `(meshfed_[a-z0-9_]+)` \\|").FindAllStringSubmatch(section, -1) {
		rows[m[1]] = true
	}
	var families []string
	for _, m := range regexp.MustCompile("`([a-z_]+_)\\*`").FindAllStringSubmatch(section, -1) {
		families = append(families, m[1])
	}

	declared := declaredMetrics(t)
	for name := range declared {
		if !rows[name] {
			t.Errorf("README.md's metrics table lacks %s", name)
		}
	}
	for name := range rows {
		if !declared[name] {
			t.Errorf("README.md lists %s, which no code declares", name)
		}
	}
	served := append(gather(t, metrics.Registry), scrapeWaypoint(t)...)
	if len(served) < 20 {
		t.Fatalf("only %d metrics served: %v", len(served), served)
	}
	for _, name := range served {
		if rows[name] || slices.ContainsFunc(families, func(f string) bool { return strings.HasPrefix(name, f) }) {
			continue
		}
		t.Errorf("%s is served but the README neither lists it nor names its family", name)
	}
}

// declaredMetrics scans the module's Go source (tests excluded) for meshfed_* metric names.
func declaredMetrics(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "../.." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range metricName.FindAllStringSubmatch(string(src), -1) {
			names[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 10 {
		t.Fatalf("found only %d meshfed metrics in the source: %v", len(names), names)
	}
	return names
}

// gather lists the metric families g serves now.
func gather(t *testing.T, g prometheus.Gatherer) []string {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(fams))
	for _, f := range fams {
		names = append(names, f.GetName())
	}
	return names
}

// scrapeWaypoint lists the metric families a fresh waypoint serves at /metrics.
func scrapeWaypoint(t *testing.T) []string {
	t.Helper()
	w, err := waypoint.New(waypoint.Options{
		Namespace: "shop", Cluster: "east-1", ListenHost: "127.0.0.1", Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w.Admin())
	defer srv.Close()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (\S+) `).FindAllStringSubmatch(string(body), -1) {
		names = append(names, m[1])
	}
	if !slices.Contains(names, "go_goroutines") || !slices.Contains(names, "meshfed_waypoint_store_revision") {
		t.Fatalf("waypoint /metrics lacks go_goroutines or meshfed_waypoint_store_revision:\n%s", body)
	}
	return names
}
