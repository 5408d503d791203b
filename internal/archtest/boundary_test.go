package archtest

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/meshfed/meshfed"

// boundary says that no package matching Pattern may depend, even transitively, on a package
// with one of the Forbidden prefixes.
type boundary struct {
	Pattern   string
	Forbidden []string
	Why       string
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
		Pattern:   "./pki/...",
		Forbidden: []string{"k8s.io/", "sigs.k8s.io/", "go.etcd.io/", "github.com/", "golang.org/"},
		Why:       "certificate building is pure, the standard library only (nothing of the module either), so that the hub, meshfedctl and hbone/identity share it",
	},
	{
		Pattern:   "./hbone/...",
		Forbidden: []string{"k8s.io/", "sigs.k8s.io/", "go.etcd.io/", module + "/apis", module + "/federation", module + "/waypoint", module + "/cmd", module + "/internal"},
		Why:       "hbone imports no Kubernetes, no etcd and nothing of the module outside hbone but pki, the stdlib-only certificate builder (so that the hub mints exactly the certificates hbone verifies)",
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
		Pattern:   "./waypoint/...",
		Forbidden: []string{"sigs.k8s.io/controller-runtime"},
		Why:       "waypoint imports no controller-runtime",
	},
	{
		Pattern:   "./apis/... ./federation/... ./cmd/meshfed-hub/...",
		Forbidden: []string{module + "/hbone", module + "/waypoint"},
		Why:       "the control plane never imports the data plane",
	},
	{
		Pattern:   "./federation/store ./waypoint/... ./cmd/meshfed-waypoint/... ./cmd/meshfedctl/...",
		Forbidden: []string{"go.etcd.io/etcd/server/"},
		Why:       "store clients do not link the etcd server; only federation/store/embedded does",
	},
	{
		Pattern:   "./cmd/meshfed-waypoint/...",
		Forbidden: []string{"k8s.io/client-go/kubernetes", "k8s.io/api/", "sigs.k8s.io/controller-runtime"},
		Why:       "the waypoint reads only its Node's metadata: no typed clientset, no API group",
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
						if strings.HasPrefix(dep, bad) {
							t.Errorf("%s depends on %s: %s", pkg, dep, b.Why)
						}
					}
				}
			}
		})
	}
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
