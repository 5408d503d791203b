package member

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
)

func svcWith(labels, annotations map[string]string) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Labels: labels, Annotations: annotations}}
}

func nsWith(labels, annotations map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: labels, Annotations: annotations}}
}

func TestReadExport(t *testing.T) {
	const scopeKey, aliasKey = wellknown.ServiceScopeKey, wellknown.ServiceScopeAliasKey
	const takeoverKey = wellknown.ServiceTakeoverKey
	m := func(kv ...string) map[string]string {
		out := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	tests := []struct {
		name         string
		svc          *corev1.Service
		ns           *corev1.Namespace
		export       bool
		wantExported bool
		wantScope    model.Scope
		wantTakeover bool
		wantProblems []meshfedv1.GlobalServiceConditionReason
	}{
		{name: "nothing set", svc: svcWith(nil, nil), ns: nsWith(nil, nil)},
		{name: "service label", svc: svcWith(m(scopeKey, "global"), nil), wantExported: true, wantScope: model.ScopeGlobal},
		{name: "service annotation", svc: svcWith(nil, m(scopeKey, "segment")), wantExported: true, wantScope: model.ScopeSegment},
		{name: "annotation beats label", svc: svcWith(m(scopeKey, "global"), m(scopeKey, "cluster")), wantExported: true, wantScope: model.ScopeCluster},
		{name: "alias key accepted", svc: svcWith(m(aliasKey, "global"), nil), wantExported: true, wantScope: model.ScopeGlobal},
		{name: "meshfed key beats alias", svc: svcWith(nil, m(scopeKey, "segment", aliasKey, "global")), wantExported: true, wantScope: model.ScopeSegment},
		{name: "namespace scope", svc: svcWith(nil, nil), ns: nsWith(m(scopeKey, "global"), nil), wantExported: true, wantScope: model.ScopeGlobal},
		{name: "service beats namespace", svc: svcWith(nil, m(scopeKey, "cluster")), ns: nsWith(m(scopeKey, "global"), nil), wantExported: true, wantScope: model.ScopeCluster},
		{name: "ServiceExport means global", svc: svcWith(nil, nil), export: true, wantExported: true, wantScope: model.ScopeGlobal},
		{name: "service beats ServiceExport", svc: svcWith(nil, m(scopeKey, "segment")), export: true, wantExported: true, wantScope: model.ScopeSegment},
		{name: "ServiceExport beats namespace", svc: svcWith(nil, nil), ns: nsWith(nil, m(scopeKey, "cluster")), export: true, wantExported: true, wantScope: model.ScopeGlobal},
		{
			name: "invalid service scope is not exported, no fallback", svc: svcWith(nil, m(scopeKey, "planet")), ns: nsWith(m(scopeKey, "global"), nil),
			wantProblems: []meshfedv1.GlobalServiceConditionReason{meshfedv1.GlobalServiceReasonInvalidScope},
		},
		{
			name: "invalid namespace scope", svc: svcWith(nil, nil), ns: nsWith(m(scopeKey, "Global"), nil),
			wantProblems: []meshfedv1.GlobalServiceConditionReason{meshfedv1.GlobalServiceReasonInvalidScope},
		},
		{name: "global-only implies takeover", svc: svcWith(m(scopeKey, "global-only"), nil), wantExported: true, wantScope: model.ScopeGlobalOnly, wantTakeover: true},
		{name: "global-only takeover false", svc: svcWith(m(scopeKey, "global-only", takeoverKey, "false"), nil), wantExported: true, wantScope: model.ScopeGlobalOnly},
		{name: "explicit takeover on global", svc: svcWith(m(scopeKey, "global"), m(takeoverKey, "true")), wantExported: true, wantScope: model.ScopeGlobal, wantTakeover: true},
		{name: "service takeover beats namespace", svc: svcWith(m(scopeKey, "global-only", takeoverKey, "false"), nil), ns: nsWith(m(takeoverKey, "true"), nil), wantExported: true, wantScope: model.ScopeGlobalOnly},
		{name: "namespace takeover", svc: svcWith(m(scopeKey, "global"), nil), ns: nsWith(nil, m(wellknown.ServiceTakeoverAliasKey, "true")), wantExported: true, wantScope: model.ScopeGlobal, wantTakeover: true},
		{
			name: "invalid takeover is reported and ignored", svc: svcWith(m(scopeKey, "global-only", takeoverKey, "yes"), nil), wantExported: true, wantScope: model.ScopeGlobalOnly, wantTakeover: true,
			wantProblems: []meshfedv1.GlobalServiceConditionReason{meshfedv1.GlobalServiceReasonInvalidTakeover},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ReadExport(tt.svc, tt.ns, tt.export)
			if got.Exported != tt.wantExported || got.Scope != tt.wantScope || got.Takeover != tt.wantTakeover {
				t.Errorf("got exported=%v scope=%q takeover=%v, want %v %q %v", got.Exported, got.Scope, got.Takeover, tt.wantExported, tt.wantScope, tt.wantTakeover)
			}
			if len(got.Problems) != len(tt.wantProblems) {
				t.Fatalf("problems = %+v, want reasons %v", got.Problems, tt.wantProblems)
			}
			for i, p := range got.Problems {
				if p.Reason != tt.wantProblems[i] || p.Message == "" {
					t.Errorf("problem %d = %+v, want reason %s with a message", i, p, tt.wantProblems[i])
				}
			}
		})
	}
}

// FuzzReadExport: whatever users write into the scope and takeover keys, the reader never
// panics, exports only with a valid scope, and reports every invalid scope.
func FuzzReadExport(f *testing.F) {
	f.Add("global", "", "true", false)
	f.Add("", "segment", "no", true)
	f.Add("Global", "global-only", "", false)
	f.Fuzz(func(t *testing.T, svcScope, nsScope, takeover string, export bool) {
		svc := svcWith(map[string]string{wellknown.ServiceTakeoverKey: takeover}, nil)
		if svcScope != "" {
			svc.Annotations = map[string]string{wellknown.ServiceScopeKey: svcScope}
		}
		ns := nsWith(nil, map[string]string{wellknown.ServiceScopeKey: nsScope})
		got := ReadExport(svc, ns, export)
		if got.Exported && got.Scope.Width() < 0 {
			t.Fatalf("exported with invalid scope %q", got.Scope)
		}
		if svcScope != "" {
			if _, err := model.ParseScope(svcScope); (err != nil) == got.Exported {
				t.Fatalf("service scope %q: exported=%v", svcScope, got.Exported)
			}
		}
	})
}
