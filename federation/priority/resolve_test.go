package priority

import (
	"errors"
	"testing"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
)

// wantProblem is the expected shape of one Problem.
type wantProblem struct {
	origin Origin
	key    string
	reason Reason
}

// resolveCase is one Resolve input and what it must give with the backend default.
type resolveCase struct {
	name     string
	src      Sources
	want     model.Distribution
	explicit bool
	origin   Origin
	problems []wantProblem
}

// runResolveCases runs Resolve on each case.
func runResolveCases(t *testing.T, tests []resolveCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Resolve(tt.src, model.DefaultBackendMode)
			if !got.Distribution.Equal(tt.want) || got.Explicit != tt.explicit || got.Origin != tt.origin {
				t.Errorf("Resolve = %+v, explicit=%v, origin=%q; want %+v, %v, %q",
					got.Distribution, got.Explicit, got.Origin, tt.want, tt.explicit, tt.origin)
			}
			checkProblems(t, got.Problems, tt.problems)
		})
	}
}

func TestResolve(t *testing.T) {
	fp := "topology.kubernetes.io/region,rack"
	runResolveCases(t, []resolveCase{
		{"nothing set: default", Sources{}, model.Distribution{Mode: model.ModePreferNetwork}, false, OriginDefault, nil},
		{"spec wins over everything",
			Sources{Spec: "PreferSameNode", Service: Annotations{TrafficDistribution: "Any", FailoverPriority: fp},
				Namespace: Annotations{TrafficDistribution: "PreferRegion"}},
			model.Distribution{Mode: model.ModePreferSameNode}, true, OriginSpec, nil},
		{"spec PreferSameZone is PreferClose", Sources{Spec: "PreferSameZone"},
			model.Distribution{Mode: model.ModePreferClose}, true, OriginSpec, nil},
		{"service annotation over namespace",
			Sources{Service: Annotations{TrafficDistribution: "PreferCluster"}, Namespace: Annotations{TrafficDistribution: "Any"}},
			model.Distribution{Mode: model.ModePreferCluster}, true, OriginService, nil},
		{"istio alias on service", Sources{Service: Annotations{IstioTrafficDistribution: "PreferSameZone"}},
			model.Distribution{Mode: model.ModePreferClose}, true, OriginService, nil},
		{"namespace annotation when service has none", Sources{Namespace: Annotations{TrafficDistribution: "PreferRegion"}},
			model.Distribution{Mode: model.ModePreferRegion}, true, OriginNamespace, nil},
		{"namespace failover priority", Sources{Namespace: Annotations{FailoverPriority: fp}},
			model.Distribution{Mode: model.ModeFailoverPriority, FailoverPriority: []string{"topology.kubernetes.io/region", "rack"}},
			true, OriginNamespace, nil},
		{"service traffic distribution beats namespace failover priority",
			Sources{Service: Annotations{TrafficDistribution: "Any"}, Namespace: Annotations{FailoverPriority: fp}},
			model.Distribution{Mode: model.ModeAny}, true, OriginService, nil},
		{"failover priority beats traffic distribution on the same object",
			Sources{Service: Annotations{FailoverPriority: fp, TrafficDistribution: "Any"}},
			model.Distribution{Mode: model.ModeFailoverPriority, FailoverPriority: []string{"topology.kubernetes.io/region", "rack"}},
			true, OriginService, []wantProblem{{OriginService, wellknown.TrafficDistributionKey, ReasonIgnoredValue}}},
		{"meshfed key beats istio alias and reports the difference",
			Sources{Service: Annotations{TrafficDistribution: "PreferRegion", IstioTrafficDistribution: "PreferSameNode"}},
			model.Distribution{Mode: model.ModePreferRegion}, true, OriginService,
			[]wantProblem{{OriginService, wellknown.IstioTrafficDistributionKey, ReasonIgnoredValue}}},
		{"equal meaning on both keys is no problem",
			Sources{Service: Annotations{TrafficDistribution: "PreferClose", IstioTrafficDistribution: "PreferSameZone"}},
			model.Distribution{Mode: model.ModePreferClose}, true, OriginService, nil},
		{"invalid ignored alias is reported",
			Sources{Namespace: Annotations{TrafficDistribution: "Any", IstioTrafficDistribution: "bogus"}},
			model.Distribution{Mode: model.ModeAny}, true, OriginNamespace,
			[]wantProblem{{OriginNamespace, wellknown.IstioTrafficDistributionKey, ReasonIgnoredValue}}},
	})
}

// TestResolveInvalidValues: what an invalid or unknown value gives depends on its key, and
// annotation values ignore case.
func TestResolveInvalidValues(t *testing.T) {
	runResolveCases(t, []resolveCase{
		{"unknown spec value: default, no fall-through",
			Sources{Spec: "PreferNetwork", Service: Annotations{TrafficDistribution: "Any"}},
			model.Distribution{Mode: model.ModePreferNetwork}, false, OriginDefault,
			[]wantProblem{{OriginSpec, SpecKey, ReasonUnknownMode}}},
		{"unknown meshfed value on the service: default, namespace not consulted",
			Sources{Service: Annotations{TrafficDistribution: "Nearest"}, Namespace: Annotations{TrafficDistribution: "Any"}},
			model.Distribution{Mode: model.ModePreferNetwork}, false, OriginDefault,
			[]wantProblem{{OriginService, wellknown.TrafficDistributionKey, ReasonUnknownMode}}},
		{"meshfed value in another case",
			Sources{Service: Annotations{TrafficDistribution: "preferREGION"}},
			model.Distribution{Mode: model.ModePreferRegion}, true, OriginService, nil},
		{"unknown istio value on the namespace means Any",
			Sources{Namespace: Annotations{IstioTrafficDistribution: "Nearest"}},
			model.Distribution{Mode: model.ModeAny}, true, OriginNamespace,
			[]wantProblem{{OriginNamespace, wellknown.IstioTrafficDistributionKey, ReasonUnknownMode}}},
		{"unknown istio value on the service means Any, namespace not consulted",
			Sources{Service: Annotations{IstioTrafficDistribution: "PreferSameRegion"}, Namespace: Annotations{TrafficDistribution: "PreferCluster"}},
			model.Distribution{Mode: model.ModeAny}, true, OriginService,
			[]wantProblem{{OriginService, wellknown.IstioTrafficDistributionKey, ReasonUnknownMode}}},
		{"invalid meshfed value beats the istio key on the same object",
			Sources{Service: Annotations{TrafficDistribution: "Nearest", IstioTrafficDistribution: "PreferClose"}},
			model.Distribution{Mode: model.ModePreferNetwork}, false, OriginDefault,
			[]wantProblem{{OriginService, wellknown.TrafficDistributionKey, ReasonUnknownMode}}},
		{"invalid failover priority",
			Sources{Service: Annotations{FailoverPriority: "a,,b", TrafficDistribution: "Any"}},
			model.Distribution{Mode: model.ModePreferNetwork}, false, OriginDefault,
			[]wantProblem{{OriginService, wellknown.FailoverPriorityKey, ReasonInvalidFailoverPriority}}},
	})
}

// checkProblems compares problems with their expected shape.
func checkProblems(t *testing.T, got []*SettingProblem, want []wantProblem) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("problems = %v, want %d", got, len(want))
	}
	for i, p := range got {
		w := want[i]
		if p.Origin != w.origin || p.Key != w.key || p.Reason != w.reason || p.Value == "" || p.Error() == "" {
			t.Errorf("problem %d = %+v, want %+v", i, p, w)
		}
	}
}

func TestResolveDefaultWaypointMode(t *testing.T) {
	got := Resolve(Sources{}, model.DefaultWaypointMode)
	if got.Distribution.Mode != model.ModePreferClose || got.Explicit {
		t.Errorf("Resolve default = %+v", got)
	}
}

func TestProblemUnwrap(t *testing.T) {
	got := Resolve(Sources{Spec: "x"}, model.DefaultBackendMode)
	var p *SettingProblem
	if len(got.Problems) != 1 || !errors.As(got.Problems[0], &p) || !errors.Is(p, ErrUnknownMode) {
		t.Fatalf("problem %v does not unwrap to ErrUnknownMode", got.Problems)
	}
}

func TestAnnotationsFrom(t *testing.T) {
	got := AnnotationsFrom(map[string]string{
		"meshfed.io/traffic-distribution":          "Any",
		"networking.istio.io/traffic-distribution": "PreferClose",
		"meshfed.io/failover-priority":             "rack",
		"meshfed.io/overprovisioning-factor":       "200",
		"meshfed.io/panic-threshold":               "0",
		"other":                                    "x",
	})
	want := Annotations{TrafficDistribution: "Any", IstioTrafficDistribution: "PreferClose", FailoverPriority: "rack",
		OverprovisioningFactor: "200", PanicThreshold: "0"}
	if got != want {
		t.Errorf("AnnotationsFrom = %+v, want %+v", got, want)
	}
	if AnnotationsFrom(nil) != (Annotations{}) {
		t.Error("AnnotationsFrom(nil) is not empty")
	}
}

// TestResolveIstioTrafficDistribution runs the cases of Istio's TestGetTrafficDistribution
// (pilot/pkg/model/service_test.go) through Resolve with the Istio annotation: Istio's
// TrafficDistributionPreferSameZone is ModePreferClose here. The one deliberate difference is
// the result when nothing is set: Istio's is Any, meshfed's the caller's default.
func TestResolveIstioTrafficDistribution(t *testing.T) {
	istio := func(v string) Annotations { return Annotations{IstioTrafficDistribution: v} }
	tests := []struct {
		name string
		src  Sources
		want model.Mode
	}{
		{"spec value takes precedence", Sources{Spec: "PreferClose", Service: istio("PreferSameNode"), Namespace: istio("Any")}, model.ModePreferClose},
		{"service annotation takes precedence over namespace", Sources{Service: istio("PreferSameNode"), Namespace: istio("PreferClose")}, model.ModePreferSameNode},
		{"namespace annotation used when service has none", Sources{Namespace: istio("PreferClose")}, model.ModePreferClose},
		{"namespace annotation with PreferSameNode", Sources{Namespace: istio("PreferSameNode")}, model.ModePreferSameNode},
		{"case insensitive namespace annotation", Sources{Namespace: istio("preferclose")}, model.ModePreferClose},
		// Not in Istio's test, in its code: an unknown value is Any with a warning.
		{"unknown service annotation", Sources{Service: istio("Closest"), Namespace: istio("PreferSameNode")}, model.ModeAny},
		// meshfed: the caller's default where Istio gives Any ("defaults to Any when nothing set").
		{"nothing set gives the default", Sources{}, model.DefaultBackendMode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Resolve(tt.src, model.DefaultBackendMode); got.Distribution.Mode != tt.want {
				t.Errorf("Resolve = %+v, want mode %s", got, tt.want)
			}
		})
	}
}
