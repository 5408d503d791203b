package app_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/ctltest"
	"github.com/meshfed/meshfed/e2e/framework"
	"github.com/meshfed/meshfed/internal/golden"
)

// TestCommandLine: unknown verbs and typos exit 2 with a suggestion, under either program
// name; --version and version print the build. Before, `get globalservics` printed help and
// exited 0.
func TestCommandLine(t *testing.T) {
	lines := []struct {
		program string
		args    []string
	}{
		{app.Program, []string{"staus"}},
		{app.Program, []string{"gt", "gs"}},
		{app.Program, []string{"describe", "globalservics", "web"}},
		{app.Program, []string{"waypoint", "aply", "-n", "shop"}},
		{app.Program, []string{"ca", "isue"}},
		{app.Program, []string{"ca", "issue", "--spiffe-id", "spiffe://cluster.local/ns/shop/sa/x"}},
		{app.Program, []string{"status", "--log-level", "verbose"}},
		{app.Program, []string{"completion", "bsh"}},
		{app.Plugin, []string{"staus"}},
		{app.Plugin, []string{"status", "--kubconfig", "x"}},
	}
	var out strings.Builder
	for _, l := range lines {
		r := ctltest.Run(t, l.program, l.args...)
		out.WriteString(strings.Replace(r.Transcript(l.args...), "$ meshfedctl", "$ "+l.program, 1))
		if r.Err == nil {
			t.Errorf("%s %s succeeded", l.program, strings.Join(l.args, " "))
		}
	}
	golden.Check(t, "command_line", out.String())
	for _, args := range [][]string{{"--version"}, {"version"}} {
		r := ctltest.Run(t, app.Program, args...)
		if r.Err != nil || !strings.HasPrefix(r.Stdout, "meshfedctl dev (commit ") {
			t.Errorf("meshfedctl %s: %q, %v", args[0], r.Stdout, r.Err)
		}
	}
}

// TestCompletion completes resource types, and names of clusters, networks, global services
// and kubeconfig contexts read from a real hub, as the shell asks through cobra's __complete.
func TestCompletion(t *testing.T) {
	hub := framework.Start(t, 1, framework.WithNames("hub"), framework.WithScheme(meshfedv1.AddToScheme))[0]
	t.Setenv("KUBECONFIG", hub.KubeconfigFile(t)) // a flag before the completed word would take it as its value
	ctltest.Members(t, hub)
	if err := hub.Client.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"web", "cart"} {
		gs := &meshfedv1.GlobalService{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name},
			Spec:       meshfedv1.GlobalServiceSpec{ServiceName: name, Domain: "mesh.internal", Hostname: name + ".shop.mesh.internal", Scope: meshfedv1.ServiceScopeGlobal},
		}
		if err := hub.Client.Create(t.Context(), gs); err != nil {
			t.Fatal(err)
		}
	}
	lines := [][]string{
		{"__complete", "get", ""},
		{"__complete", "get", "gs", "-n", "shop", ""},
		{"__complete", "describe", "mc", ""},
		{"__complete", "describe", "gs", "web", "-n", "shop", "--from", ""},
		{"__complete", "unjoin", "--hub-context", "hub", ""},
		{"__complete", "waypoint", "apply", "--hub-context", "hub", "--cluster", ""},
		{"__complete", "waypoint", "apply", "--hub-context", "hub", "--network", ""},
		{"__complete", "status", "--context", ""},
		{"__complete", "get", "gs", "-n", ""},
		{"__complete", "get", "gs", "-o", ""},
	}
	var out strings.Builder
	for _, l := range lines {
		r := ctltest.Run(t, app.Program, l...)
		r.Stderr = "" // cobra's debug line
		out.WriteString(r.Transcript(l...))
	}
	golden.Check(t, "completion", out.String())
}
