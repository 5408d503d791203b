package priority

import (
	"errors"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
)

// wantProblem is the expected shape of one Problem.
type wantProblem struct {
	origin Origin
	key    string
	reason Reason
}

func TestResolve(t *testing.T) {
	fp := "topology.kubernetes.io/region,rack"
	tests := []struct {
		name     string
		src      Sources
		want     model.Distribution
		explicit bool
		origin   Origin
		problems []wantProblem
	}{
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
			true, OriginService, []wantProblem{{OriginService, TrafficDistributionKey, ReasonIgnoredValue}}},
		{"meshfed key beats istio alias and reports the difference",
			Sources{Service: Annotations{TrafficDistribution: "PreferRegion", IstioTrafficDistribution: "PreferSameNode"}},
			model.Distribution{Mode: model.ModePreferRegion}, true, OriginService,
			[]wantProblem{{OriginService, IstioTrafficDistributionKey, ReasonIgnoredValue}}},
		{"equal meaning on both keys is no problem",
			Sources{Service: Annotations{TrafficDistribution: "PreferClose", IstioTrafficDistribution: "PreferSameZone"}},
			model.Distribution{Mode: model.ModePreferClose}, true, OriginService, nil},
		{"invalid ignored alias is reported",
			Sources{Namespace: Annotations{TrafficDistribution: "Any", IstioTrafficDistribution: "bogus"}},
			model.Distribution{Mode: model.ModeAny}, true, OriginNamespace,
			[]wantProblem{{OriginNamespace, IstioTrafficDistributionKey, ReasonIgnoredValue}}},
		{"unknown spec value: default, no fall-through",
			Sources{Spec: "PreferNetwork", Service: Annotations{TrafficDistribution: "Any"}},
			model.Distribution{Mode: model.ModePreferNetwork}, false, OriginDefault,
			[]wantProblem{{OriginSpec, SpecKey, ReasonUnknownMode}}},
		{"unknown service value: default, namespace not consulted",
			Sources{Service: Annotations{TrafficDistribution: "preferclose"}, Namespace: Annotations{TrafficDistribution: "Any"}},
			model.Distribution{Mode: model.ModePreferNetwork}, false, OriginDefault,
			[]wantProblem{{OriginService, TrafficDistributionKey, ReasonUnknownMode}}},
		{"unknown namespace value",
			Sources{Namespace: Annotations{IstioTrafficDistribution: "Nearest"}},
			model.Distribution{Mode: model.ModePreferNetwork}, false, OriginDefault,
			[]wantProblem{{OriginNamespace, IstioTrafficDistributionKey, ReasonUnknownMode}}},
		{"invalid failover priority",
			Sources{Service: Annotations{FailoverPriority: "a,,b", TrafficDistribution: "Any"}},
			model.Distribution{Mode: model.ModePreferNetwork}, false, OriginDefault,
			[]wantProblem{{OriginService, FailoverPriorityKey, ReasonInvalidFailoverPriority}}},
	}
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

// checkProblems compares problems with their expected shape.
func checkProblems(t *testing.T, got []*Problem, want []wantProblem) {
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
	var p *Problem
	if len(got.Problems) != 1 || !errors.As(got.Problems[0], &p) || !errors.Is(p, ErrUnknownMode) {
		t.Fatalf("problem %v does not unwrap to ErrUnknownMode", got.Problems)
	}
}

func TestAnnotationsFrom(t *testing.T) {
	got := AnnotationsFrom(map[string]string{
		"meshfed.io/traffic-distribution":          "Any",
		"networking.istio.io/traffic-distribution": "PreferClose",
		"meshfed.io/failover-priority":             "rack",
		"other":                                    "x",
	})
	want := Annotations{TrafficDistribution: "Any", IstioTrafficDistribution: "PreferClose", FailoverPriority: "rack"}
	if got != want {
		t.Errorf("AnnotationsFrom = %+v, want %+v", got, want)
	}
	if AnnotationsFrom(nil) != (Annotations{}) {
		t.Error("AnnotationsFrom(nil) is not empty")
	}
}
