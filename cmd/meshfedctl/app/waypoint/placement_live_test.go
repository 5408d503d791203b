package waypoint_test

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/e2e/framework"
)

// testPlacement applies the placement flags to a real API server, which validates every
// object, reads them back, then shrinks the waypoint to one pod and checks that the budget and
// the autoscaler it no longer wants are gone.
func testPlacement(t *testing.T, c *framework.Cluster, apply func(string, ...string) []string) {
	createNamespace(t, c, "edge")
	out := run(t, apply("edge", "--node-selector", "role=gateway,example.com/pool=edge", "--toleration", "dedicated=gateway:NoSchedule",
		"--toleration", "example.com/gw", "--anti-affinity", "required", "--autoscale", "2:6", "--autoscale-cpu", "60",
		"--pod-rps", "2000", "--memory-limit", "1Gi", "--shutdown-delay", "3s", "--drain-timeout", "40s")...)
	if got := countLines(out, " created\n"); got != 7 {
		t.Errorf("apply created %d objects, want 7 (with budget and autoscaler):\n%s", got, out)
	}
	ctx := t.Context()
	key := client.ObjectKey{Namespace: "edge", Name: wellknown.WaypointName}
	var dep appsv1.Deployment
	if err := c.Client.Get(ctx, key, &dep); err != nil {
		t.Fatal(err)
	}
	pod := dep.Spec.Template.Spec
	if pod.NodeSelector["role"] != "gateway" || pod.NodeSelector["example.com/pool"] != "edge" || len(pod.NodeSelector) != 2 {
		t.Errorf("node selector %v", pod.NodeSelector)
	}
	wantTol := []corev1.Toleration{
		{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "gateway", Effect: corev1.TaintEffectNoSchedule},
		{Key: "example.com/gw", Operator: corev1.TolerationOpExists},
	}
	if !slices.Equal(pod.Tolerations, wantTol) {
		t.Errorf("tolerations %+v, want %+v", pod.Tolerations, wantTol)
	}
	anti := pod.Affinity.PodAntiAffinity
	if len(anti.RequiredDuringSchedulingIgnoredDuringExecution) != 1 || anti.RequiredDuringSchedulingIgnoredDuringExecution[0].TopologyKey != corev1.LabelHostname ||
		len(anti.PreferredDuringSchedulingIgnoredDuringExecution) != 1 || anti.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.TopologyKey != corev1.LabelTopologyZone {
		t.Errorf("anti-affinity %+v", anti)
	}
	res := pod.Containers[0].Resources
	if res.Requests.Cpu().String() != "800m" || res.Requests.Memory().String() != "128Mi" || res.Limits.Memory().String() != "1Gi" || res.Limits.Cpu().String() != "2" {
		t.Errorf("resources %+v", res)
	}
	if *pod.TerminationGracePeriodSeconds != 48 {
		t.Errorf("termination grace period %d s, want 3 + 40 + 5", *pod.TerminationGracePeriodSeconds)
	}
	var hpa autoscalingv2.HorizontalPodAutoscaler
	if err := c.Client.Get(ctx, key, &hpa); err != nil {
		t.Fatal(err)
	}
	if *hpa.Spec.MinReplicas != 2 || hpa.Spec.MaxReplicas != 6 || *hpa.Spec.Metrics[0].Resource.Target.AverageUtilization != 60 || hpa.Spec.ScaleTargetRef.Name != dep.Name {
		t.Errorf("autoscaler spec %+v", hpa.Spec)
	}
	var pdb policyv1.PodDisruptionBudget
	if err := c.Client.Get(ctx, key, &pdb); err != nil {
		t.Fatal(err)
	}
	sel := pdb.Spec.Selector.MatchLabels
	if pdb.Spec.MinAvailable.IntValue() != 1 || sel[wellknown.WaypointPodLabel] != wellknown.WaypointName || !strings.EqualFold(string(*pdb.Spec.UnhealthyPodEvictionPolicy), "AlwaysAllow") {
		t.Errorf("disruption budget spec %+v", pdb.Spec)
	}

	out = run(t, apply("edge", "--replicas", "1")...)
	for _, want := range []string{"PodDisruptionBudget/edge/meshfed-waypoint deleted", "HorizontalPodAutoscaler/edge/meshfed-waypoint deleted", "Deployment/edge/meshfed-waypoint configured"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply --replicas 1 did not print %q:\n%s", want, out)
		}
	}
	for _, obj := range []client.Object{&policyv1.PodDisruptionBudget{}, &autoscalingv2.HorizontalPodAutoscaler{}} {
		if err := c.Client.Get(ctx, key, obj); !apierrors.IsNotFound(err) {
			t.Errorf("%T still there after apply --replicas 1 (err %v)", obj, err)
		}
	}
	if err := c.Client.Get(ctx, key, &dep); err != nil {
		t.Fatal(err)
	}
	if *dep.Spec.Replicas != 1 || dep.Spec.Template.Spec.Affinity != nil || dep.Spec.Template.Spec.NodeSelector != nil || dep.Spec.Template.Spec.Tolerations != nil {
		t.Errorf("after apply --replicas 1: replicas %d, affinity %+v, node selector %v, tolerations %v", *dep.Spec.Replicas,
			dep.Spec.Template.Spec.Affinity, dep.Spec.Template.Spec.NodeSelector, dep.Spec.Template.Spec.Tolerations)
	}
	out = run(t, apply("edge", "--replicas", "1")...)
	if strings.Contains(out, "deleted") || strings.Contains(out, "configured") {
		t.Errorf("applying --replicas 1 again changed something:\n%s", out)
	}
}
