package archtest

import (
	"bufio"
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/meshfed/meshfed"

// boundary says that no package matching Pattern may depend, even transitively, on a package
// with one of the Forbidden prefixes; a Forbidden entry ending in "$" names one package exactly
// (module + "/waypoint$" is the waypoint package, not its sub-packages).
type boundary struct {
	Pattern   string
	Forbidden []string
	// Except are dependencies allowed although a Forbidden entry matches them (same syntax).
	Except []string
	Why    string
}

var boundaries = []boundary{
	{
		Pattern:   "./apis/wellknown",
		Forbidden: []string{"k8s.io/", "sigs.k8s.io/", "go.etcd.io/", "github.com/", "golang.org/"},
		Why:       "the shared names import only the standard library, so every layer can use them",
	},
	{
		Pattern:   "./federation/model/... ./federation/priority/... ./federation/merge/...",
		Forbidden: []string{"k8s.io/", "sigs.k8s.io/", "go.etcd.io/", "github.com/quic-go/", module + "/hbone", module + "/waypoint"},
		Why:       "pure packages import no client-go, controller-runtime, etcd or quic-go",
	},
	{
		Pattern:   "./hbone/pki/...",
		Forbidden: []string{"k8s.io/", "sigs.k8s.io/", "go.etcd.io/", "github.com/", "golang.org/"},
		Why:       "certificate building is pure, the standard library only (nothing of the module either), so that the hub, meshfedctl and hbone/identity share it",
	},
	{
		Pattern:   "./hbone/...",
		Forbidden: []string{"k8s.io/", "sigs.k8s.io/", "go.etcd.io/", module + "/apis", module + "/federation", module + "/waypoint", module + "/cmd", module + "/internal"},
		Except:    []string{module + "/internal/dualport$", module + "/internal/quietconn$"},
		Why:       "hbone imports no Kubernetes, no etcd and nothing of the module outside hbone but internal/dualport, the stdlib-only TCP+UDP listener it shares with DNS, and internal/quietconn, the stdlib-only raw-syscall connection it shares with the waypoint",
	},
	{
		Pattern:   "./internal/quietconn/...",
		Forbidden: []string{"k8s.io/", "sigs.k8s.io/", "go.etcd.io/", "github.com/", "golang.org/"},
		Why:       "the quiet connection is the standard library only, so that hbone can share it",
	},
	{
		Pattern:   "./internal/dualport/...",
		Forbidden: []string{"k8s.io/", "sigs.k8s.io/", "go.etcd.io/", "github.com/", "golang.org/"},
		Why:       "the TCP+UDP listener is the standard library only, so that hbone can share it",
	},
	{
		Pattern:   "./waypoint/...",
		Forbidden: []string{module + "/federation/member", module + "/federation/controller", module + "/federation/writeback"},
		Why:       "the waypoint reads the store, never the hub's member connections or reconcilers",
	},
	{
		Pattern:   "./cmd/meshfedctl/...",
		Forbidden: []string{module + "/federation/controller"},
		Why:       "the CLI shares names through apis/wellknown, not the hub's reconcilers",
	},
	{
		Pattern:   "./cmd/meshfedctl/...",
		Forbidden: []string{module + "/waypoint$", module + "/hbone$", "github.com/quic-go/"},
		Why:       "describe reuses the waypoint's table builder (waypoint/table) and reads /debug/endpoints as table.DebugTable: the CLI links no data plane, no tunnel and no QUIC",
	},
	{
		Pattern:   "./waypoint/balance/...",
		Forbidden: []string{"net", "k8s.io/", "sigs.k8s.io/", "go.etcd.io/", "google.golang.org/", "github.com/quic-go/", "github.com/prometheus/", module + "/federation/store", module + "/hbone", module + "/waypoint/table"},
		Why:       "outlier detection and in-flight counts are pure: no network, no store, no metrics; the table builds on them, not the other way round",
	},
	{
		Pattern:   "./waypoint/table/...",
		Forbidden: []string{module + "/hbone", "github.com/quic-go/", "github.com/prometheus/", "k8s.io/", "sigs.k8s.io/"},
		Why:       "the endpoint table decides and never connects: another reader of the store (DNS, meshfedctl describe) can link it without HBONE, QUIC, metrics or Kubernetes (net/http comes only with the etcd client)",
	},
	{
		Pattern:   "./waypoint/http1/... ./waypoint/internal/coarse/... ./internal/quietconn/...",
		Forbidden: []string{module + "/federation", "go.etcd.io/", module + "/hbone", "github.com/quic-go/", "github.com/prometheus/", module + "/waypoint/table", module + "/waypoint/balance", "k8s.io/"},
		Why:       "the HTTP/1.1 engine speaks to one endpoint it is given a dial for: it knows no store, no endpoint table, no outlier detection, no tunnel and no metrics",
	},
	{
		Pattern:   "./waypoint/...",
		Forbidden: []string{"sigs.k8s.io/controller-runtime"},
		Why:       "waypoint imports no controller-runtime",
	},
	{
		Pattern:   "./apis/... ./federation/... ./cmd/meshfed-hub/...",
		Forbidden: []string{module + "/hbone", module + "/waypoint"},
		Except:    []string{module + "/hbone/pki$"},
		Why:       "the control plane never imports the data plane; only hbone/pki, the stdlib-only certificate builder, so that the hub mints exactly the certificates hbone verifies",
	},
	{
		Pattern:   "./federation/store ./waypoint/... ./cmd/meshfed-waypoint/... ./cmd/meshfedctl/...",
		Forbidden: []string{"go.etcd.io/etcd/server/"},
		Why:       "store clients do not link the etcd server; only federation/store/embedded does",
	},
	{
		Pattern:   "./cmd/meshfed-waypoint/...",
		Forbidden: []string{"k8s.io/", "sigs.k8s.io/controller-runtime"},
		Why:       "the waypoint reads only its Node's labels, with one GET of its own: no client-go and no API machinery, which were a fifth of its binary and 4 MiB of its resident memory",
	},
	{
		Pattern:   "./federation/dns/zone/... ./federation/dns/corefile/...",
		Forbidden: []string{"k8s.io/", "sigs.k8s.io/", "go.etcd.io/", "github.com/quic-go/"},
		Why:       "the DNS table and the Corefile editing are pure: no Kubernetes, no etcd",
	},
	{
		Pattern:   "./cmd/meshfed-dns/...",
		Forbidden: []string{"k8s.io/client-go/kubernetes", "sigs.k8s.io/controller-runtime", "go.etcd.io/", module + "/federation/store"},
		Why:       "meshfed-dns reads only ServiceImports of its own cluster: no typed clientset of every API group, no store",
	},
	{
		Pattern:   "./apis/...",
		Forbidden: []string{"sigs.k8s.io/controller-runtime", "k8s.io/client-go", "go.etcd.io/"},
		Why:       "API packages import only apimachinery, k8s.io/api and mcs-api",
	},
}

func TestPackageBoundaries(t *testing.T) {
	for _, b := range boundaries {
		t.Run(b.Pattern, func(t *testing.T) {
			for pkg, deps := range listDeps(t, b.Pattern) {
				for _, dep := range deps {
					if dep == pkg {
						continue
					}
					for _, bad := range b.Forbidden {
						if forbids(bad, dep) && !slices.ContainsFunc(b.Except, func(ok string) bool { return forbids(ok, dep) }) {
							t.Errorf("%s depends on %s: %s", pkg, dep, b.Why)
						}
					}
				}
			}
		})
	}
}

// forbids reports whether the Forbidden entry bad matches the package dep: a prefix, or the
// package exactly when bad ends in "$".
func forbids(bad, dep string) bool {
	if exact, ok := strings.CutSuffix(bad, "$"); ok {
		return dep == exact
	}
	return strings.HasPrefix(dep, bad)
}

// listDeps maps each non-test package matching pattern to its transitive dependencies. A
// pattern matching nothing yet (a package not written) yields an empty map.
func listDeps(t *testing.T, pattern string) map[string][]string {
	t.Helper()
	pkgs := goList(t, append([]string{"list", "-e", "-f", "{{if not .Error}}{{.ImportPath}}{{end}}"}, strings.Fields(pattern)...))
	out := make(map[string][]string, len(pkgs))
	for _, p := range pkgs {
		if strings.HasPrefix(p, "warning:") {
			continue
		}
		out[p] = goList(t, []string{"list", "-deps", "-f", "{{.ImportPath}}", p})
	}
	return out
}

func goList(t *testing.T, args []string) []string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", args...)
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil && !strings.Contains(stderr.String(), "matched no packages") {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

func TestForbids(t *testing.T) {
	tests := []struct {
		bad, dep string
		want     bool
	}{
		{module + "/hbone", module + "/hbone/identity", true},
		{module + "/hbone$", module + "/hbone", true},
		{module + "/hbone$", module + "/hbone/identity", false},
		{module + "/waypoint$", module + "/waypoint/table", false},
		{"net", "net/netip", true},
		{"net", "encoding/json", false},
	}
	for _, tt := range tests {
		if got := forbids(tt.bad, tt.dep); got != tt.want {
			t.Errorf("forbids(%q, %q) = %v, want %v", tt.bad, tt.dep, got, tt.want)
		}
	}
}
