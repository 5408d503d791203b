package waypoint_test

import (
	"maps"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/cmd/meshfedctl/app/waypoint"
)

func TestParseToleration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want corev1.Toleration
		err  string
	}{
		{in: "dedicated", want: corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpExists}},
		{in: "dedicated:NoSchedule", want: corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
		{in: "dedicated=gateway:NoExecute", want: corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "gateway", Effect: corev1.TaintEffectNoExecute}},
		{in: "example.com/pool=edge", want: corev1.Toleration{Key: "example.com/pool", Operator: corev1.TolerationOpEqual, Value: "edge"}},
		{in: "k=", want: corev1.Toleration{Key: "k", Operator: corev1.TolerationOpEqual}},
		{in: "k=v:PreferNoSchedule", want: corev1.Toleration{Key: "k", Operator: corev1.TolerationOpEqual, Value: "v", Effect: corev1.TaintEffectPreferNoSchedule}},
		{in: "", err: "missing KEY"},
		{in: ":NoSchedule", err: "missing KEY"},
		{in: "=v", err: "missing KEY"},
		{in: "k:", err: `effect ""`},
		{in: "k:noschedule", err: `effect "noschedule"`},
		{in: "k=v:NoSchedule:NoSchedule", err: `value "v:NoSchedule"`},
		{in: "bad key", err: `key "bad key"`},
		{in: "k=bad value", err: `value "bad value"`},
		{in: "k=" + strings.Repeat("v", 64), err: "value"},
	} {
		got, err := waypoint.ParseToleration(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "--toleration") {
				t.Errorf("ParseToleration(%q) = %+v, %v; want an error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseToleration(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseNodeSelector(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want map[string]string
		err  string
	}{
		{in: nil, want: nil},
		{in: []string{"role=gateway"}, want: map[string]string{"role": "gateway"}},
		{in: []string{"role=gateway", "example.com/pool=edge", "role=gateway"}, want: map[string]string{"role": "gateway", "example.com/pool": "edge"}},
		{in: []string{"empty="}, want: map[string]string{"empty": ""}},
		{in: []string{"role"}, err: "want KEY=VALUE"},
		{in: []string{"=v"}, err: `key ""`},
		{in: []string{"role=a", "role=b"}, err: "already"},
		{in: []string{"role=a b"}, err: `value "a b"`},
		{in: []string{"x", "y"}, err: `"y"`}, // every bad item is reported
	} {
		got, err := waypoint.ParseNodeSelector(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseNodeSelector(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || !maps.Equal(got, tc.want) || (got == nil) != (tc.want == nil) {
			t.Errorf("ParseNodeSelector(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseAutoscale(t *testing.T) {
	for in, want := range map[string][2]int32{"1:1": {1, 1}, "2:10": {2, 10}, "1:1000": {1, 1000}} {
		lo, hi, err := waypoint.ParseAutoscale(in)
		if err != nil || lo != want[0] || hi != want[1] {
			t.Errorf("ParseAutoscale(%q) = %d, %d, %v; want %v", in, lo, hi, err, want)
		}
	}
	for _, in := range []string{"", "3", "0:2", "3:2", "1:1001", "-1:2", "+1:2", "a:b", "1:2:3", " 1:2", "2147483648:1"} {
		if _, _, err := waypoint.ParseAutoscale(in); err == nil || !strings.Contains(err.Error(), "--autoscale") {
			t.Errorf("ParseAutoscale(%q) = %v, want an error naming --autoscale", in, err)
		}
	}
}

// TestDefaultResources pins the arithmetic from the measured cost (resources.go).
func TestDefaultResources(t *testing.T) {
	for _, tc := range []struct {
		rps, procs                         int32
		cpuReq, memReq, cpuLimit, memLimit string
	}{
		{1000, 2, "400m", "64Mi", "2", "256Mi"},
		{250, 2, "100m", "64Mi", "2", "256Mi"}, // memory does not shrink below 1,000 requests/s
		{1, 1, "1m", "64Mi", "1", "256Mi"},
		{2000, 2, "800m", "128Mi", "2", "512Mi"},  // 40 × 2 × 1.5 = 120 → 128
		{10000, 2, "4", "608Mi", "4", "2432Mi"},   // CPU limit never below the request
		{1000, 0, "400m", "64Mi", "", "256Mi"},    // procs 0: no CPU limit
		{333, 1, "134m", "64Mi", "1", "256Mi"},    // 133.2 rounded up
		{3000, 2, "1200m", "192Mi", "2", "768Mi"}, // 180 → 192
	} {
		r := waypoint.DefaultResources(tc.rps, tc.procs)
		for name, pair := range map[string][2]resource.Quantity{
			"cpu request": {r.CPURequest, resource.MustParse(tc.cpuReq)}, "memory request": {r.MemoryRequest, resource.MustParse(tc.memReq)},
			"memory limit": {r.MemoryLimit, resource.MustParse(tc.memLimit)},
		} {
			if pair[0].Cmp(pair[1]) != 0 {
				t.Errorf("rps %d procs %d: %s %s, want %s", tc.rps, tc.procs, name, pair[0].String(), pair[1].String())
			}
		}
		if (tc.cpuLimit == "") != r.CPULimit.IsZero() || (tc.cpuLimit != "" && r.CPULimit.Cmp(resource.MustParse(tc.cpuLimit)) != 0) {
			t.Errorf("rps %d procs %d: cpu limit %s, want %q", tc.rps, tc.procs, r.CPULimit.String(), tc.cpuLimit)
		}
	}
}

func TestResourceFlagsResolve(t *testing.T) {
	r, err := waypoint.ResourceFlags{CPURequest: "1", MemoryLimit: "0"}.Resolve(1000, 2)
	if err != nil || r.CPURequest.String() != "1" || !r.MemoryLimit.IsZero() || r.MemoryRequest.String() != "64Mi" {
		t.Errorf("Resolve = %+v, %v", r, err)
	}
	for name, f := range map[string]waypoint.ResourceFlags{
		"cpu-request":    {CPURequest: "lots"},
		"zero request":   {MemoryRequest: "0"},
		"negative limit": {CPULimit: "-1"},
		"below":          {CPURequest: "3", CPULimit: "2"},
		"memory below":   {MemoryLimit: "10Mi"},
	} {
		if _, err := f.Resolve(1000, 2); err == nil {
			t.Errorf("%s: Resolve(%+v) succeeded", name, f)
		}
	}
}

// TestObjectsPlacement: what each flag puts into the objects, and which optional objects
// exist for which replica counts.
func TestObjectsPlacement(t *testing.T) {
	tol := []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists}}
	for _, tc := range []struct {
		name             string
		spec             waypoint.Spec
		kinds            []string
		anti             string // "", "preferred", "required"
		replicasSet      bool
		wantNodeSelector map[string]string
	}{
		{name: "one replica", spec: waypoint.Spec{Replicas: 1}, kinds: nil, replicasSet: true},
		{name: "two replicas", spec: waypoint.Spec{Replicas: 2}, kinds: []string{"PodDisruptionBudget"}, anti: "preferred", replicasSet: true},
		{name: "required", spec: waypoint.Spec{Replicas: 3, AntiAffinity: waypoint.AntiAffinityRequired}, kinds: []string{"PodDisruptionBudget"}, anti: "required", replicasSet: true},
		{name: "none", spec: waypoint.Spec{Replicas: 3, AntiAffinity: waypoint.AntiAffinityNone}, kinds: []string{"PodDisruptionBudget"}, replicasSet: true},
		{name: "autoscale 1:4", spec: waypoint.Spec{Replicas: 2, Autoscale: &waypoint.Autoscale{Min: 1, Max: 4, CPUPercent: 70}}, kinds: []string{"HorizontalPodAutoscaler"}, anti: "preferred"},
		{name: "autoscale 2:4", spec: waypoint.Spec{Autoscale: &waypoint.Autoscale{Min: 2, Max: 4, CPUPercent: 70}}, kinds: []string{"PodDisruptionBudget", "HorizontalPodAutoscaler"}, anti: "preferred"},
		{name: "dedicated nodes", spec: waypoint.Spec{Replicas: 1, NodeSelector: map[string]string{"role": "gw"}, Tolerations: tol}, replicasSet: true, wantNodeSelector: map[string]string{"role": "gw"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.spec.Namespace, tc.spec.CertSecret = "shop", "certs"
			objs := waypoint.Objects(tc.spec)
			var kinds []string
			for _, o := range objs[5:] {
				kinds = append(kinds, kindOf(o))
			}
			if !reflect.DeepEqual(kinds, tc.kinds) {
				t.Errorf("optional objects %v, want %v", kinds, tc.kinds)
			}
			dep := objs[3].(*appsv1.Deployment)
			if (dep.Spec.Replicas != nil) != tc.replicasSet {
				t.Errorf("Deployment replicas %v, set want %v", dep.Spec.Replicas, tc.replicasSet)
			}
			pod := dep.Spec.Template.Spec
			if got := antiKind(pod.Affinity); got != tc.anti {
				t.Errorf("anti-affinity %q, want %q", got, tc.anti)
			}
			if !maps.Equal(pod.NodeSelector, tc.wantNodeSelector) || (len(tc.spec.Tolerations) > 0 && !reflect.DeepEqual(pod.Tolerations, tc.spec.Tolerations)) {
				t.Errorf("node selector %v tolerations %v", pod.NodeSelector, pod.Tolerations)
			}
			for _, o := range objs[5:] {
				switch o := o.(type) {
				case *policyv1.PodDisruptionBudget:
					if o.Spec.MinAvailable.IntValue() != 1 {
						t.Errorf("PDB minAvailable %v", o.Spec.MinAvailable)
					}
				case *autoscalingv2.HorizontalPodAutoscaler:
					a := tc.spec.Autoscale
					if *o.Spec.MinReplicas != a.Min || o.Spec.MaxReplicas != a.Max || *o.Spec.Metrics[0].Resource.Target.AverageUtilization != a.CPUPercent ||
						o.Spec.ScaleTargetRef.Name != dep.Name || o.Spec.ScaleTargetRef.Kind != "Deployment" {
						t.Errorf("HPA spec %+v", o.Spec)
					}
				}
			}
		})
	}
}

// TestObjectsGracePeriod: the pods' termination grace period covers the drain they are told.
func TestObjectsGracePeriod(t *testing.T) {
	for _, d := range []waypoint.Drain{waypoint.DefaultDrain(), {}, {ShutdownDelay: 1500 * 1e6, Timeout: 60 * 1e9}} {
		pod := waypoint.Objects(waypoint.Spec{Namespace: "shop", Drain: d})[3].(*appsv1.Deployment).Spec.Template.Spec
		env := map[string]string{}
		for _, e := range pod.Containers[0].Env {
			env[e.Name] = e.Value
		}
		if env["MESHFED_SHUTDOWN_DELAY"] != d.ShutdownDelay.String() || env["MESHFED_DRAIN_TIMEOUT"] != d.Timeout.String() {
			t.Errorf("drain %+v: env %v", d, env)
		}
		if got, min := *pod.TerminationGracePeriodSeconds, (d.ShutdownDelay + d.Timeout).Seconds(); float64(got) < min+5 {
			t.Errorf("drain %+v: grace period %d s, want at least %.1f s", d, got, min+5)
		}
	}
}

func antiKind(a *corev1.Affinity) string {
	switch {
	case a == nil || a.PodAntiAffinity == nil:
		return ""
	case len(a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) > 0:
		return "required"
	default:
		return "preferred"
	}
}

func kindOf(o client.Object) string {
	switch o.(type) {
	case *policyv1.PodDisruptionBudget:
		return "PodDisruptionBudget"
	case *autoscalingv2.HorizontalPodAutoscaler:
		return "HorizontalPodAutoscaler"
	}
	return "other"
}

// FuzzParseToleration: a value is accepted only when it yields a toleration the API server
// would accept, and accepted values round-trip through the KEY[=VALUE][:EFFECT] syntax.
func FuzzParseToleration(f *testing.F) {
	for _, s := range []string{"dedicated", "k=v:NoSchedule", "a/b=:NoExecute", ":", "k=v=w", "k::NoSchedule", "é=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tol, err := waypoint.ParseToleration(s)
		if err != nil {
			if !strings.Contains(err.Error(), "--toleration") {
				t.Fatalf("error does not name the flag: %v", err)
			}
			return
		}
		if len(validation.IsQualifiedName(tol.Key)) > 0 || len(validation.IsValidLabelValue(tol.Value)) > 0 {
			t.Fatalf("%q accepted with an invalid key or value: %+v", s, tol)
		}
		if tol.Operator == corev1.TolerationOpExists && tol.Value != "" {
			t.Fatalf("%q: Exists with a value", s)
		}
		back := tol.Key
		if tol.Operator == corev1.TolerationOpEqual {
			back += "=" + tol.Value
		}
		if tol.Effect != "" {
			back += ":" + string(tol.Effect)
		}
		if back != s {
			t.Fatalf("%q parsed as %+v, which reads back as %q", s, tol, back)
		}
	})
}

// FuzzParseNodeSelector: accepted items are valid labels and each appears in the selector.
func FuzzParseNodeSelector(f *testing.F) {
	for _, s := range []string{"role=gw", "a=b,a=c", "=", "k8s.io/x=y", "a=b,c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		items := strings.Split(s, ",")
		got, err := waypoint.ParseNodeSelector(items)
		if err != nil {
			return
		}
		for k, v := range got {
			if len(validation.IsQualifiedName(k)) > 0 || len(validation.IsValidLabelValue(v)) > 0 {
				t.Fatalf("%q accepted with invalid label %q=%q", s, k, v)
			}
		}
		for _, item := range items {
			k, v, _ := strings.Cut(item, "=")
			if got[k] != v {
				t.Fatalf("%q: item %q not in %v", s, item, got)
			}
		}
	})
}

// FuzzParseAutoscale: accepted bounds are ordered and in range, and print back as the input.
func FuzzParseAutoscale(f *testing.F) {
	for _, s := range []string{"1:2", "0:0", "5:3", "01:2", "1:1000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lo, hi, err := waypoint.ParseAutoscale(s)
		if err != nil {
			return
		}
		if lo < 1 || hi < lo || hi > waypoint.MaxAutoscaleReplicas {
			t.Fatalf("%q accepted as %d:%d", s, lo, hi)
		}
	})
}
