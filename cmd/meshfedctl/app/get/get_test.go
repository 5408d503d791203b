package get_test

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

// TestGet runs meshfedctl get against a real hub API server holding global services, member
// clusters and segments with hub-written status, in every output format, and the mistakes a
// user makes, comparing everything with testdata/get.golden. Before, `get globalservics` printed
// help and exited 0, and `get gs -A` failed on -A because gs was no name of the type.
func TestGet(t *testing.T) {
	hub := framework.Start(t, 1, framework.WithNames("hub"), framework.WithScheme(meshfedv1.AddToScheme))[0]
	kubeconfig := hub.KubeconfigFile(t)
	Fixture(t, hub)
	lines := [][]string{
		{"get", "gs"},
		{"get", "gs", "-n", "shop"},
		{"get", "gs", "-A"},
		{"get", "globalservices", "-n", "shop", "-o", "wide"},
		{"get", "globalservice", "web", "-n", "shop", "-o", "yaml"},
		{"get", "gsvc", "-n", "shop", "-o", "json"},
		{"get", "gs", "-A", "-o", "name"},
		{"get", "gs", "-n", "shop", "-o", "jsonpath={range .items[*]}{.spec.hostname}{\"\\n\"}{end}"},
		{"get", "gs", "-n", "shop", "-l", "tier=front"},
		{"get", "mc"},
		{"get", "memberclusters", "-o", "wide"},
		{"get", "mc", "east-1", "-o", "jsonpath={.spec.network}"},
		{"get", "seg"},
		{"get", "segments", "-o", "wide"},
		{"get", "segment", "west", "-o", "yaml"},
		{"get", "gs", "-n", "empty"},
		// Mistakes: each one message, exit 2 for the line, 1 for what the hub says.
		{"get", "globalservics"},
		{"get"},
		{"get", "gs", "-A", "-n", "shop"},
		{"get", "gs", "web", "-A"},
		{"get", "gs", "-o", "xml"},
		{"get", "gs", "-l", "tier in (front"},
		{"get", "gs", "nope", "-n", "shop"},
		{"get", "gs", "--namepsace", "shop"},
	}
	var out strings.Builder
	for _, l := range lines {
		args := append(append([]string{}, l...), "--kubeconfig", kubeconfig)
		out.WriteString(ctltest.Run(t, app.Program, args...).Transcript(l...))
	}
	golden.Check(t, "get", out.String())

	plugin := ctltest.Run(t, app.Plugin, "get", "gs", "--bogus", "--kubeconfig", kubeconfig)
	if !strings.Contains(plugin.Err.Error(), `for "kubectl meshfed get"`) {
		t.Errorf("as kubectl-meshfed, the message names %q", plugin.Err)
	}
}

// Fixture fills a hub API server with what the hub would have written: global services in
// shop and default, four member clusters in every state, two segments.
func Fixture(t *testing.T, hub *framework.Cluster) {
	t.Helper()
	ctx := t.Context()
	for _, ns := range []string{"shop", "empty"} {
		if err := hub.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	services := []struct {
		ns, name string
		labels   map[string]string
		spec     meshfedv1.GlobalServiceSpec
		status   meshfedv1.GlobalServiceStatus
	}{
		{"shop", "web", map[string]string{"tier": "front"}, meshfedv1.GlobalServiceSpec{
			Scope: meshfedv1.ServiceScopeGlobal, Type: "ClusterSetIP", TrafficDistribution: "PreferClose",
			Ports: []meshfedv1.GlobalServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, AppProtocol: "http", WaypointPort: 20000}},
		}, meshfedv1.GlobalServiceStatus{
			Clusters: []meshfedv1.ClusterExportStatus{
				{Name: "west-1", Scope: meshfedv1.ServiceScopeGlobal, Endpoints: 2, ReadyEndpoints: 1, Stale: true},
				{Name: "east-1", Scope: meshfedv1.ServiceScopeSegment, Endpoints: 3, ReadyEndpoints: 3},
			},
			Endpoints: 5, ReadyEndpoints: 4, ImportedBy: []string{"east-1", "west-1"},
			Conditions: []metav1.Condition{condition(string(meshfedv1.GlobalServiceConditionConflict), metav1.ConditionFalse, string(meshfedv1.GlobalServiceReasonNoConflict))},
		}},
		{"shop", "cart", nil, meshfedv1.GlobalServiceSpec{
			Scope: meshfedv1.ServiceScopeSegment, Type: "ClusterSetIP", TrafficDistribution: "PreferNetwork",
			Ports: []meshfedv1.GlobalServicePort{{Name: "grpc", Port: 9000, Protocol: corev1.ProtocolTCP}},
		}, meshfedv1.GlobalServiceStatus{
			Clusters: []meshfedv1.ClusterExportStatus{
				{Name: "a", Scope: meshfedv1.ServiceScopeSegment, Endpoints: 1, ReadyEndpoints: 1},
				{Name: "b", Scope: meshfedv1.ServiceScopeSegment, Endpoints: 1, ReadyEndpoints: 0},
				{Name: "c", Scope: meshfedv1.ServiceScopeSegment}, {Name: "d", Scope: meshfedv1.ServiceScopeSegment}, {Name: "e", Scope: meshfedv1.ServiceScopeSegment},
			},
			Endpoints: 2, ReadyEndpoints: 1,
			Conflicts:  []meshfedv1.ServiceConflict{{Reason: "PortConflict", Message: "port 80", Clusters: []string{"a", "b"}}},
			Conditions: []metav1.Condition{condition(string(meshfedv1.GlobalServiceConditionConflict), metav1.ConditionTrue, string(meshfedv1.GlobalServiceReasonPortConflict))},
		}},
		{"default", "dns", nil, meshfedv1.GlobalServiceSpec{Scope: meshfedv1.ServiceScopeCluster}, meshfedv1.GlobalServiceStatus{}},
	}
	for _, s := range services {
		spec := s.spec
		spec.ServiceName, spec.Domain, spec.Hostname = s.name, "mesh.internal", s.name+"."+s.ns+".mesh.internal"
		gs := &meshfedv1.GlobalService{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: s.name, Labels: s.labels}, Spec: spec}
		if err := hub.Client.Create(ctx, gs); err != nil {
			t.Fatal(err)
		}
		gs.Status = s.status
		if err := hub.Client.Status().Update(ctx, gs); err != nil {
			t.Fatal(err)
		}
	}
	ctltest.Members(t, hub)
	for _, s := range []struct{ name, domain string }{{"default", ""}, {"west", "west.example"}} {
		seg := &meshfedv1.Segment{ObjectMeta: metav1.ObjectMeta{Name: s.name}, Spec: meshfedv1.SegmentSpec{Domain: s.domain}}
		if err := hub.Client.Create(ctx, seg); err != nil {
			t.Fatal(err)
		}
		seg.Status.Clusters = map[string][]string{"default": {"east-1", "north-1", "south-1"}, "west": {"west-1"}}[s.name]
		seg.Status.ClusterCount = int32(len(seg.Status.Clusters))
		seg.Status.Conditions = []metav1.Condition{condition(meshfedv1.SegmentConditionAccepted, metav1.ConditionTrue, "Accepted")}
		if err := hub.Client.Status().Update(ctx, seg); err != nil {
			t.Fatal(err)
		}
	}
}

func condition(typ string, status metav1.ConditionStatus, reason string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: "set by the test", LastTransitionTime: metav1.Now()}
}
