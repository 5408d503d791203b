package get_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/e2e/framework"
)

// TestGetGlobalServices runs meshfedctl get globalservices against a real hub API server
// holding GlobalServices with hub-written status, in the context's namespace, one namespace
// and all namespaces.
func TestGetGlobalServices(t *testing.T) {
	hub := framework.Start(t, 1, framework.WithNames("hub"), framework.WithScheme(meshfedv1.AddToScheme))[0]
	kubeconfig := hub.KubeconfigFile(t)
	ctx := t.Context()
	for _, ns := range []string{"shop", "empty"} {
		if err := hub.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	services := []struct {
		ns, name string
		scope    meshfedv1.ServiceScope
		status   meshfedv1.GlobalServiceStatus
	}{
		{"shop", "web", meshfedv1.ServiceScopeGlobal, meshfedv1.GlobalServiceStatus{
			Clusters: []meshfedv1.ClusterExportStatus{
				{Name: "west-1", Scope: meshfedv1.ServiceScopeGlobal, Endpoints: 2, ReadyEndpoints: 1, Stale: true},
				{Name: "east-1", Scope: meshfedv1.ServiceScopeSegment, Endpoints: 3, ReadyEndpoints: 3},
			},
			Endpoints: 5, ReadyEndpoints: 4,
			Conditions: []metav1.Condition{conflictCondition(metav1.ConditionFalse, meshfedv1.GlobalServiceReasonNoConflict)},
		}},
		{"shop", "cart", meshfedv1.ServiceScopeSegment, meshfedv1.GlobalServiceStatus{
			Clusters: []meshfedv1.ClusterExportStatus{
				{Name: "a", Scope: meshfedv1.ServiceScopeSegment, Endpoints: 1, ReadyEndpoints: 1},
				{Name: "b", Scope: meshfedv1.ServiceScopeSegment, Endpoints: 1, ReadyEndpoints: 0},
				{Name: "c", Scope: meshfedv1.ServiceScopeSegment},
				{Name: "d", Scope: meshfedv1.ServiceScopeSegment},
				{Name: "e", Scope: meshfedv1.ServiceScopeSegment},
			},
			Endpoints: 2, ReadyEndpoints: 1,
			Conflicts:  []meshfedv1.ServiceConflict{{Reason: "PortConflict", Message: "port 80", Clusters: []string{"a", "b"}}},
			Conditions: []metav1.Condition{conflictCondition(metav1.ConditionTrue, meshfedv1.GlobalServiceReasonPortConflict)},
		}},
		{"default", "dns", meshfedv1.ServiceScopeCluster, meshfedv1.GlobalServiceStatus{}},
	}
	for _, s := range services {
		gs := &meshfedv1.GlobalService{
			ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: s.name},
			Spec: meshfedv1.GlobalServiceSpec{
				ServiceName: s.name, Domain: "mesh.internal", Hostname: s.name + "." + s.ns + ".mesh.internal", Scope: s.scope,
			},
		}
		if err := hub.Client.Create(ctx, gs); err != nil {
			t.Fatal(err)
		}
		gs.Status = s.status
		if err := hub.Client.Status().Update(ctx, gs); err != nil {
			t.Fatal(err)
		}
	}

	header := "NAMESPACE|NAME|HOSTNAME|SCOPE|CLUSTERS|ENDPOINTS|CONFLICT"
	web := "shop|web|web.shop.mesh.internal|global|east-1,west-1(stale)|4/5|none"
	cart := "shop|cart|cart.shop.mesh.internal|segment|a,b,c+2|1/2|PortConflict"
	dns := "default|dns|dns.default.mesh.internal|cluster|<none>|0/0|none"
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"context namespace", nil, []string{header, dns}},
		{"one namespace", []string{"-n", "shop"}, []string{header, cart, web}},
		{"all namespaces", []string{"-A"}, []string{header, dns, cart, web}},
		{"alias", []string{"--namespace=shop"}, []string{header, cart, web}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verb := "globalservices"
			if tt.name == "alias" {
				verb = "gsvc"
			}
			out, _ := run(t, append([]string{"get", verb, "--kubeconfig", kubeconfig}, tt.args...)...)
			got := rows(out)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s\noutput:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"), out)
			}
		})
	}

	out, errOut := run(t, "get", "globalservices", "--kubeconfig", kubeconfig, "-n", "empty")
	if out != "" || !strings.Contains(errOut, "No global services found in namespace empty") {
		t.Errorf("empty namespace: stdout %q, stderr %q", out, errOut)
	}
	err := app.Run(ctx, cli.Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}},
		[]string{"get", "globalservices", "--kubeconfig", kubeconfig, "-A", "-n", "shop"})
	if err == nil {
		t.Error("get with both -A and -n succeeded")
	}
}

func conflictCondition(status metav1.ConditionStatus, reason meshfedv1.GlobalServiceConditionReason) metav1.Condition {
	return metav1.Condition{
		Type: string(meshfedv1.GlobalServiceConditionConflict), Status: status, Reason: string(reason),
		Message: "set by the test", LastTransitionTime: metav1.Now(),
	}
}

// rows joins each output line's cells with "|" (columns are separated by at least two spaces).
func rows(out string) []string {
	sep := regexp.MustCompile(`\s{2,}`)
	var got []string
	for line := range strings.Lines(strings.TrimRight(out, "\n")) {
		got = append(got, strings.Join(sep.Split(strings.TrimSpace(line), -1), "|"))
	}
	return got
}

func run(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := app.Run(t.Context(), cli.Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, args); err != nil {
		t.Fatalf("meshfedctl %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String(), errOut.String()
}
