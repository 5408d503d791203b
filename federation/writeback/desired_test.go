package writeback

import (
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	mcsv1beta1 "sigs.k8s.io/mcs-api/pkg/apis/v1beta1"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/model"
)

func testGlobal() *model.GlobalService {
	return &model.GlobalService{
		Namespace: "shop", Name: "web", Domain: wellknown.DefaultSegmentDomain, Type: model.ServiceTypeClusterSetIP,
		Ports: []model.Port{
			{Name: "http", Port: 80, Protocol: "TCP", AppProtocol: "http"},
			{Name: "dns", Port: 53, Protocol: "UDP"},
			{Name: "raw", Port: 9000},
		},
	}
}

// testPorts allocates wps[i] to the i-th port of g (0: none).
func testPorts(g *model.GlobalService, wps ...int32) PortLookup {
	return func(got *model.GlobalService, p model.Port) int32 {
		if got != g {
			return 0
		}
		for i, q := range g.Ports {
			if q == p && i < len(wps) {
				return wps[i]
			}
		}
		return 0
	}
}

func TestDesiredDerivedService(t *testing.T) {
	http := "http"
	labels := map[string]string{wellknown.ManagedByLabel: wellknown.ManagedByValue, wellknown.GlobalServiceNameLabel: "web"}
	tests := []struct {
		name      string
		wps       []int32
		wantPorts []corev1.ServicePort
	}{
		{name: "every port allocated", wps: []int32{20000, 20001, 20002}, wantPorts: []corev1.ServicePort{
			{Name: "http", Protocol: corev1.ProtocolTCP, AppProtocol: &http, Port: 80, TargetPort: intstr.FromInt32(20000)},
			{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53, TargetPort: intstr.FromInt32(20001)},
			{Name: "raw", Protocol: corev1.ProtocolTCP, Port: 9000, TargetPort: intstr.FromInt32(20002)},
		}},
		{name: "unallocated port left out", wps: []int32{20000, 0, 20002}, wantPorts: []corev1.ServicePort{
			{Name: "http", Protocol: corev1.ProtocolTCP, AppProtocol: &http, Port: 80, TargetPort: intstr.FromInt32(20000)},
			{Name: "raw", Protocol: corev1.ProtocolTCP, Port: 9000, TargetPort: intstr.FromInt32(20002)},
		}},
		{name: "nothing allocated", wps: nil, wantPorts: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := testGlobal()
			got := desiredDerivedService(g, testPorts(g, tt.wps...), "")
			if tt.wantPorts == nil {
				if got != nil {
					t.Fatalf("got %+v, want no derived Service", got)
				}
				return
			}
			want := &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: "web-global", Namespace: "shop", Labels: labels},
				Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Selector: map[string]string{"app.kubernetes.io/name": "meshfed-waypoint"},
					Ports: tt.wantPorts},
			}
			if !equality.Semantic.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestDesiredServiceImport(t *testing.T) {
	http := "http"
	ports := []mcsv1beta1.ServicePort{
		{Name: "http", Protocol: corev1.ProtocolTCP, AppProtocol: &http, Port: 80},
		{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53},
		{Name: "raw", Protocol: corev1.ProtocolTCP, Port: 9000},
	}
	tests := []struct {
		name         string
		typ          model.ServiceType
		ip           string
		families     []string // the exported Service's IP families
		wantType     mcsv1beta1.ServiceImportType
		wantIPs      []string
		wantFamilies []corev1.IPFamily // nil: those of wantIPs
	}{
		{name: "clusterset ip", typ: model.ServiceTypeClusterSetIP, ip: "10.96.0.12", wantType: mcsv1beta1.ClusterSetIP, wantIPs: []string{"10.96.0.12"}},
		{name: "dual stack", typ: model.ServiceTypeClusterSetIP, ip: "10.96.0.12,fd00::12", wantType: mcsv1beta1.ClusterSetIP, wantIPs: []string{"10.96.0.12", "fd00::12"}},
		{name: "ip not assigned yet", typ: model.ServiceTypeClusterSetIP, wantType: mcsv1beta1.ClusterSetIP},
		{name: "headless carries no ip", typ: model.ServiceTypeHeadless, ip: "10.96.0.12", wantType: mcsv1beta1.Headless},
		{name: "headless carries the exported families", typ: model.ServiceTypeHeadless, families: []string{"IPv6", "IPv4"}, wantType: mcsv1beta1.Headless,
			wantFamilies: []corev1.IPFamily{corev1.IPv6Protocol, corev1.IPv4Protocol}},
		{name: "clusterset ip families are the derived Service's", typ: model.ServiceTypeClusterSetIP, ip: "10.96.0.12", families: []string{"IPv6"},
			wantType: mcsv1beta1.ClusterSetIP, wantIPs: []string{"10.96.0.12"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := testGlobal()
			g.Type, g.Properties.IPFamilies = tt.typ, tt.families
			g.Imports = []model.Import{{Cluster: "east-1", From: []string{"east-1", "west-1"}}, {Cluster: "west-1", From: []string{"west-1"}}}
			got := desiredServiceImport(g, "east-1", derivedWithIPs(tt.ip), nil)
			if tt.wantFamilies == nil {
				tt.wantFamilies = families(tt.wantIPs)
			}
			want := &mcsv1beta1.ServiceImport{
				ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Labels: writeBackLabels("web")},
				Spec:       mcsv1beta1.ServiceImportSpec{Type: tt.wantType, IPs: tt.wantIPs, IPFamilies: tt.wantFamilies, Ports: ports},
				Status:     mcsv1beta1.ServiceImportStatus{Clusters: []mcsv1beta1.ClusterStatus{{Cluster: "east-1"}, {Cluster: "west-1"}}},
			}
			if !equality.Semantic.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestDesiredServiceImportProperties: the merged session affinity, internal traffic policy and
// traffic distribution are written as the exported Service has them, on ClusterSetIP and
// Headless imports alike; unset stays unset.
func TestDesiredServiceImportProperties(t *testing.T) {
	ten, local, preferClose := int32(10), corev1.ServiceInternalTrafficPolicyLocal, "PreferClose"
	tests := []struct {
		name  string
		typ   model.ServiceType
		props model.ServiceProperties
		want  mcsv1beta1.ServiceImportSpec
	}{
		{name: "unset", typ: model.ServiceTypeClusterSetIP},
		{name: "every field", typ: model.ServiceTypeClusterSetIP,
			props: model.ServiceProperties{SessionAffinity: "ClientIP", SessionAffinityTimeout: &ten, InternalTrafficPolicy: "Local", TrafficDistribution: preferClose},
			want: mcsv1beta1.ServiceImportSpec{
				SessionAffinity: corev1.ServiceAffinityClientIP, SessionAffinityConfig: &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: &ten}},
				InternalTrafficPolicy: &local, TrafficDistribution: &preferClose,
			}},
		{name: "headless", typ: model.ServiceTypeHeadless, props: model.ServiceProperties{SessionAffinity: "None", InternalTrafficPolicy: "Local"},
			want: mcsv1beta1.ServiceImportSpec{SessionAffinity: corev1.ServiceAffinityNone, InternalTrafficPolicy: &local}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := testGlobal()
			g.Type, g.Properties = tt.typ, tt.props
			got := desiredServiceImport(g, "east-1", nil, nil).Spec
			if got.SessionAffinity != tt.want.SessionAffinity || !equality.Semantic.DeepEqual(got.SessionAffinityConfig, tt.want.SessionAffinityConfig) ||
				!equality.Semantic.DeepEqual(got.InternalTrafficPolicy, tt.want.InternalTrafficPolicy) || !equality.Semantic.DeepEqual(got.TrafficDistribution, tt.want.TrafficDistribution) {
				t.Errorf("spec %+v, want %+v", got, tt.want)
			}
			ten = 99 // the import shares nothing with the model
			if c := got.SessionAffinityConfig; c != nil && *c.ClientIP.TimeoutSeconds != 10 {
				t.Errorf("import timeout follows the model: %d", *c.ClientIP.TimeoutSeconds)
			}
			ten = 10
		})
	}
}

// derivedWithIPs is a derived Service as the API server returns it with the comma-separated
// cluster IPs (none: not allocated yet).
func derivedWithIPs(ips string) *corev1.Service {
	svc := &corev1.Service{}
	if ips == "" {
		return svc
	}
	svc.Spec.ClusterIPs = strings.Split(ips, ",")
	svc.Spec.ClusterIP = svc.Spec.ClusterIPs[0]
	svc.Spec.IPFamilies = families(svc.Spec.ClusterIPs)
	return svc
}

// families lists the IP family of each address.
func families(ips []string) []corev1.IPFamily {
	var out []corev1.IPFamily
	for _, ip := range ips {
		if strings.Contains(ip, ":") {
			out = append(out, corev1.IPv6Protocol)
		} else {
			out = append(out, corev1.IPv4Protocol)
		}
	}
	return out
}

func TestDerivedSpecEqual(t *testing.T) {
	g := testGlobal()
	desired := desiredDerivedService(g, testPorts(g, 20000, 20001, 20002), "")
	tests := []struct {
		name   string
		change func(*corev1.Service)
		want   bool
	}{
		{name: "server defaults ignored", change: func(s *corev1.Service) {
			s.Spec.ClusterIP, s.Spec.ClusterIPs, s.Spec.SessionAffinity = "10.96.0.9", []string{"10.96.0.9"}, corev1.ServiceAffinityNone
			s.Labels["team"] = "shop"
		}, want: true},
		{name: "target port changed", change: func(s *corev1.Service) { s.Spec.Ports[1].TargetPort = intstr.FromInt32(20100) }, want: false},
		{name: "app protocol dropped", change: func(s *corev1.Service) { s.Spec.Ports[0].AppProtocol = nil }, want: false},
		{name: "port removed", change: func(s *corev1.Service) { s.Spec.Ports = s.Spec.Ports[:2] }, want: false},
		{name: "selector changed", change: func(s *corev1.Service) { s.Spec.Selector = map[string]string{"app": "x"} }, want: false},
		{name: "label removed", change: func(s *corev1.Service) { delete(s.Labels, wellknown.GlobalServiceNameLabel) }, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := desired.DeepCopy()
			tt.change(cur)
			if got := derivedSpecEqual(cur, desired); got != tt.want {
				t.Errorf("derivedSpecEqual = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestImportSpecEqual(t *testing.T) {
	g := testGlobal()
	g.Properties = model.ServiceProperties{SessionAffinity: "ClientIP", SessionAffinityTimeout: new(int32(10)), InternalTrafficPolicy: "Cluster", TrafficDistribution: "PreferClose"}
	desired := desiredServiceImport(g, "east-1", derivedWithIPs("10.96.0.12"), importAnnotations("web.shop.mesh.internal", true, nil, time.Now()))
	tests := []struct {
		name   string
		change func(*mcsv1beta1.ServiceImport)
		want   bool
	}{
		{name: "same", change: func(*mcsv1beta1.ServiceImport) {}, want: true},
		{name: "ip changed", change: func(s *mcsv1beta1.ServiceImport) { s.Spec.IPs = []string{"10.96.0.13"} }, want: false},
		{name: "type changed", change: func(s *mcsv1beta1.ServiceImport) { s.Spec.Type = mcsv1beta1.Headless }, want: false},
		{name: "port changed", change: func(s *mcsv1beta1.ServiceImport) { s.Spec.Ports[2].Port = 9001 }, want: false},
		{name: "families changed", change: func(s *mcsv1beta1.ServiceImport) { s.Spec.IPFamilies = nil }, want: false},
		{name: "session affinity changed", change: func(s *mcsv1beta1.ServiceImport) { s.Spec.SessionAffinity = corev1.ServiceAffinityNone }, want: false},
		{name: "affinity timeout changed", change: func(s *mcsv1beta1.ServiceImport) { *s.Spec.SessionAffinityConfig.ClientIP.TimeoutSeconds = 11 }, want: false},
		{name: "internal traffic policy dropped", change: func(s *mcsv1beta1.ServiceImport) { s.Spec.InternalTrafficPolicy = nil }, want: false},
		{name: "traffic distribution changed", change: func(s *mcsv1beta1.ServiceImport) { s.Spec.TrafficDistribution = new("PreferSameNode") }, want: false},
		{name: "status is not spec", change: func(s *mcsv1beta1.ServiceImport) { s.Status.Clusters = nil }, want: true},
		{name: "takeover annotation lost", change: func(s *mcsv1beta1.ServiceImport) { delete(s.Annotations, wellknown.TakeoverAnnotation) }, want: false},
		{name: "someone else's annotation", change: func(s *mcsv1beta1.ServiceImport) { s.Annotations["team"] = "shop" }, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := desired.DeepCopy()
			tt.change(cur)
			if got := importSpecEqual(cur, desired); got != tt.want {
				t.Errorf("importSpecEqual = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestWants(t *testing.T) {
	svc := func(domain, name string, importers ...string) merge.Service {
		g := model.GlobalService{Namespace: "shop", Name: name, Domain: domain}
		for _, c := range importers {
			g.Imports = append(g.Imports, model.Import{Cluster: c})
		}
		return merge.Service{Global: g}
	}
	clusters := []model.Cluster{{Name: "east-1", Segment: "default"}, {Name: "west-1", Segment: "west"}, {Name: "north-1", Segment: "north"}}
	segments := []model.Segment{{Name: "default"}, {Name: "west", Domain: "west.internal"}, {Name: "north", Domain: "north.internal"}}
	// Merge output is sorted by namespace, domain, name.
	res := &merge.Result{Services: []merge.Service{
		svc("mesh.internal", "db", "east-1"),
		svc("mesh.internal", "web", "east-1", "north-1", "west-1"),
		svc("west.internal", "web", "east-1", "west-1"),
	}}
	got := Wants(res, clusters, segments)
	want := map[string][]string{
		"east-1":  {"shop/db@mesh.internal", "shop/web@mesh.internal"},
		"west-1":  {"shop/web@west.internal"}, // its own domain wins
		"north-1": {"shop/web@mesh.internal"}, // neither is its own: the smallest domain
	}
	if len(got) != len(want) {
		t.Errorf("got clusters %v, want %v", got, want)
	}
	for c, w := range want {
		var names []string
		for _, g := range got[c] {
			names = append(names, g.Namespace+"/"+g.Name+"@"+g.Domain)
		}
		if strings.Join(names, ",") != strings.Join(w, ",") {
			t.Errorf("%s imports %v, want %v", c, names, w)
		}
	}
}

func TestReportFor(t *testing.T) {
	var r Report
	k := merge.Key{Namespace: "shop", Domain: wellknown.DefaultSegmentDomain, Name: "web"}
	r.add(k, Import{Cluster: "west-1"})
	r.add(k, Import{Cluster: "east-1", WaypointMissing: true})
	got := r.For(k)
	if len(got) != 2 || got[0].Cluster != "east-1" || !got[0].WaypointMissing || got[1].Cluster != "west-1" {
		t.Errorf("For = %+v", got)
	}
	if other := r.For(merge.Key{Namespace: "shop", Name: "db"}); len(other) != 0 {
		t.Errorf("For(unknown) = %+v", other)
	}
	cause := errors.New("connection refused")
	r.Fail("west-1", cause)
	if !errors.Is(r.Failures["west-1"], cause) || len(r.Failures) != 1 {
		t.Errorf("Failures = %v", r.Failures)
	}
}
