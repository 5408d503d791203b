package member

import (
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
)

func TestExports(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	svc := func(ns, name string, ann map[string]string, mutate ...func(*corev1.Service)) corev1.Service {
		s := corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: ann, CreationTimestamp: metav1.NewTime(t0)},
			Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.10", Ports: []corev1.ServicePort{
				{Name: "http", Port: 80, AppProtocol: ptr("http")},
			}},
		}
		for _, m := range mutate {
			m(&s)
		}
		return s
	}
	global := map[string]string{wellknown.ServiceScopeKey: "global"}
	objs := &Objects{
		Services: []corev1.Service{
			svc("shop", "web", map[string]string{wellknown.ServiceScopeKey: "global", wellknown.TrafficDistributionKey: "PreferRegion"}),
			svc("shop", "db", nil, func(s *corev1.Service) { s.Spec.ClusterIP = corev1.ClusterIPNone }),
			svc("shop", "bad", map[string]string{wellknown.ServiceScopeKey: "everywhere"}),
			svc("shop", "weird-mode", map[string]string{wellknown.ServiceScopeKey: "segment", wellknown.TrafficDistributionKey: "Nearby"}),
			svc("shop", "ext", global, func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeExternalName }),
			svc("shop", "web-global", global, func(s *corev1.Service) {
				s.Labels = map[string]string{wellknown.ManagedByLabel: wellknown.ManagedByValue}
			}),
			svc("quiet", "plain", nil),
		},
		Namespaces: map[string]*corev1.Namespace{
			"shop": {ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{wellknown.NetworkLabel: "net-shop"}}},
		},
		ServiceExports: map[types.NamespacedName]*mcsv1alpha1.ServiceExport{
			{Namespace: "shop", Name: "db"}: {ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(t0.Add(time.Hour))}},
		},
		EndpointSlices: map[types.NamespacedName][]discoveryv1.EndpointSlice{
			{Namespace: "shop", Name: "web"}: {{
				AddressType: discoveryv1.AddressTypeIPv4,
				Ports:       []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(8080))}},
				Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.244.1.5"}}},
			}},
		},
	}
	got, problems := Exports(Site{Cluster: "c1", Network: "net-a", Region: "r1"}, objs)

	names := make([]string, len(got))
	for i, e := range got {
		names[i] = e.Name
	}
	if want := []string{"db", "web", "weird-mode"}; len(names) != len(want) || names[0] != want[0] || names[1] != want[1] || names[2] != want[2] {
		t.Fatalf("exported %v, want %v", names, want)
	}
	db, web, weird := got[0], got[1], got[2]
	if db.Type != model.ServiceTypeHeadless || db.Scope != model.ScopeGlobal || !db.Created.Equal(t0.Add(time.Hour)) {
		t.Errorf("db: %+v", db)
	}
	if web.Distribution.Mode != model.ModePreferRegion || !web.DistributionSet || web.Ports[0].AppProtocol != "http" || web.Ports[0].Protocol != "TCP" {
		t.Errorf("web: %+v", web)
	}
	if len(web.Endpoints) != 1 || web.Endpoints[0].Locality.Network != "net-shop" || web.Endpoints[0].Locality.Cluster != "c1" {
		t.Errorf("web endpoints: %+v", web.Endpoints)
	}
	if weird.Distribution.Mode != model.DefaultBackendMode || weird.DistributionSet {
		t.Errorf("weird-mode distribution: %+v set=%v", weird.Distribution, weird.DistributionSet)
	}
	wantReasons := map[string]meshfedv1.GlobalServiceConditionReason{
		"bad":        meshfedv1.GlobalServiceReasonInvalidScope,
		"weird-mode": meshfedv1.GlobalServiceReasonInvalidTrafficDistribution,
		"ext":        meshfedv1.GlobalServiceReasonUnsupportedType,
	}
	if len(problems) != len(wantReasons) {
		t.Fatalf("problems: %+v", problems)
	}
	for _, p := range problems {
		if wantReasons[p.Service.Name] != p.Reason {
			t.Errorf("problem %+v, want reason %s", p, wantReasons[p.Service.Name])
		}
	}
}

func TestExportsOutlier(t *testing.T) {
	svc := func(name string, ann map[string]string) corev1.Service {
		a := map[string]string{wellknown.ServiceScopeKey: "global"}
		for k, v := range ann {
			a[k] = v
		}
		return corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, Annotations: a},
			Spec:       corev1.ServiceSpec{ClusterIP: "10.96.0.10", Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
		}
	}
	objs := &Objects{
		Services: []corev1.Service{
			svc("own", map[string]string{wellknown.OutlierDetectionKey: "consecutive5xxErrors=3"}),
			svc("inherits", nil),
			svc("broken", map[string]string{wellknown.OutlierDetectionKey: "consecutive5xxErrors=many"}),
		},
		Namespaces: map[string]*corev1.Namespace{
			"shop": {ObjectMeta: metav1.ObjectMeta{Name: "shop", Annotations: map[string]string{wellknown.OutlierDetectionKey: "maxEjectionPercent=50"}}},
		},
	}
	exports, problems := Exports(Site{Cluster: "east-1", Network: "n1"}, objs)
	got := map[string]string{}
	for _, e := range exports {
		got[e.Name] = "none"
		if e.Outlier != nil {
			got[e.Name] = e.Outlier.String()
		}
	}
	want := map[string]string{"own": "consecutive5xxErrors=3", "inherits": "maxEjectionPercent=50", "broken": "none"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: outlier %q, want %q", k, got[k], v)
		}
	}
	if len(problems) != 1 || problems[0].Service.Name != "broken" || problems[0].Reason != meshfedv1.GlobalServiceReasonInvalidOutlierDetection {
		t.Errorf("problems %+v, want one InvalidOutlierDetection on broken", problems)
	}
}

// TestExportsLoadPolicy: the load policy travels on the export, the Service's value of each
// setting beating the Namespace's; an invalid value is an InvalidLoadPolicy problem naming the
// key and leaves that setting at the default while the other setting still applies.
func TestExportsLoadPolicy(t *testing.T) {
	svc := func(name string, ann map[string]string) corev1.Service {
		a := map[string]string{wellknown.ServiceScopeKey: "global"}
		maps.Copy(a, ann)
		return corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, Annotations: a},
			Spec:       corev1.ServiceSpec{ClusterIP: "10.96.0.10", Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
		}
	}
	nsAnn := func(ann map[string]string) map[string]*corev1.Namespace {
		return map[string]*corev1.Namespace{"shop": {ObjectMeta: metav1.ObjectMeta{Name: "shop", Annotations: ann}}}
	}
	tests := []struct {
		name        string
		svc         map[string]string
		ns          map[string]string
		want        string // LoadPolicy.String(), "nil" for no policy
		wantProblem string // a substring of the one problem's message, "" for none
	}{
		{name: "nothing set", want: "nil"},
		{name: "service sets both", svc: map[string]string{wellknown.OverprovisioningFactorKey: "200", wellknown.PanicThresholdKey: "0"},
			want: "overprovisioning-factor=200,panic-threshold=0"},
		{name: "namespace value", ns: map[string]string{wellknown.PanicThresholdKey: "30%"}, want: "panic-threshold=30"},
		{name: "service beats namespace per setting",
			svc:  map[string]string{wellknown.PanicThresholdKey: "10"},
			ns:   map[string]string{wellknown.PanicThresholdKey: "90", wellknown.OverprovisioningFactorKey: "100"},
			want: "overprovisioning-factor=100,panic-threshold=10"},
		{name: "invalid factor keeps the threshold",
			svc:  map[string]string{wellknown.OverprovisioningFactorKey: "1.4", wellknown.PanicThresholdKey: "20"},
			want: "panic-threshold=20", wantProblem: wellknown.OverprovisioningFactorKey},
		{name: "invalid service value does not fall back to the namespace",
			svc:  map[string]string{wellknown.PanicThresholdKey: "101"},
			ns:   map[string]string{wellknown.PanicThresholdKey: "40"},
			want: "nil", wantProblem: wellknown.PanicThresholdKey},
		{name: "invalid namespace value", ns: map[string]string{wellknown.OverprovisioningFactorKey: "0"},
			want: "nil", wantProblem: "Namespace annotation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs := &Objects{Services: []corev1.Service{svc("cart", tt.svc)}, Namespaces: nsAnn(tt.ns)}
			exports, problems := Exports(Site{Cluster: "east-1", Network: "n1"}, objs)
			if len(exports) != 1 {
				t.Fatalf("%d exports, want 1", len(exports))
			}
			got := "nil"
			if p := exports[0].Load; p != nil {
				got = p.String()
			}
			if got != tt.want {
				t.Errorf("load policy %q, want %q", got, tt.want)
			}
			switch {
			case tt.wantProblem == "" && len(problems) != 0:
				t.Errorf("problems %+v, want none", problems)
			case tt.wantProblem != "" && (len(problems) != 1 || problems[0].Reason != meshfedv1.GlobalServiceReasonInvalidLoadPolicy ||
				!strings.Contains(problems[0].Message, tt.wantProblem) || problems[0].Service.Name != "cart"):
				t.Errorf("problems %+v, want one InvalidLoadPolicy on cart mentioning %q", problems, tt.wantProblem)
			}
		})
	}
}

// TestServiceProperties: the fields an MCS ServiceImport repeats are read as the Service
// writes them, an unset field left empty.
func TestServiceProperties(t *testing.T) {
	local := corev1.ServiceInternalTrafficPolicyLocal
	tests := []struct {
		name string
		spec corev1.ServiceSpec
		want model.ServiceProperties
	}{
		{name: "unset", want: model.ServiceProperties{}},
		{
			name: "every field",
			spec: corev1.ServiceSpec{
				SessionAffinity:       corev1.ServiceAffinityClientIP,
				SessionAffinityConfig: &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr(int32(10))}},
				InternalTrafficPolicy: &local,
				TrafficDistribution:   ptr("PreferSameZone"),
				IPFamilies:            []corev1.IPFamily{corev1.IPv6Protocol, corev1.IPv4Protocol},
			},
			want: model.ServiceProperties{
				SessionAffinity: "ClientIP", SessionAffinityTimeout: ptr(int32(10)), InternalTrafficPolicy: "Local",
				TrafficDistribution: "PreferSameZone", IPFamilies: []string{"IPv6", "IPv4"},
			},
		},
		{
			name: "affinity config without a timeout",
			spec: corev1.ServiceSpec{SessionAffinity: corev1.ServiceAffinityNone, SessionAffinityConfig: &corev1.SessionAffinityConfig{}},
			want: model.ServiceProperties{SessionAffinity: "None"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := serviceProperties(&corev1.Service{Spec: tt.spec})
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("serviceProperties = %+v, want %+v", got, tt.want)
			}
		})
	}
}
