package member

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
)

// gatewayService is a shared gateway Service in ns listing namespaces, at address.
func gatewayService(ns, namespaces, address string) corev1.Service {
	return corev1.Service{ObjectMeta: metav1.ObjectMeta{
		Name: wellknown.GatewayName, Namespace: ns,
		Annotations: map[string]string{wellknown.GatewayNamespacesKey: namespaces, wellknown.HBONEAddressKey: address},
	}}
}

func TestGatewayWaypoints(t *testing.T) {
	labelled := map[string]*corev1.Namespace{
		"gw-a": {ObjectMeta: metav1.ObjectMeta{Name: "gw-a", Labels: map[string]string{wellknown.NetworkLabel: "dmz"}}},
		"shop": {ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{wellknown.NetworkLabel: "shop-net"}}},
	}
	// problem is a wanted problem: the gateway's namespace and a part of the message.
	type problem struct{ gateway, text string }
	tests := []struct {
		name     string
		services []corev1.Service
		want     []Waypoint
		problems []problem
	}{{
		name:     "two namespaces, the gateway namespace's network",
		services: []corev1.Service{gatewayService("gw-a", "shop, cart", "203.0.113.1:15008")},
		want: []Waypoint{
			{Namespace: "cart", Network: "dmz", Addresses: []string{"203.0.113.1:15008"}, Gateway: "gw-a"},
			{Namespace: "shop", Network: "dmz", Addresses: []string{"203.0.113.1:15008"}, Gateway: "gw-a"},
		},
	}, {
		name: "load balancer address, cluster network",
		services: []corev1.Service{{
			ObjectMeta: metav1.ObjectMeta{Name: wellknown.GatewayName, Namespace: "gw-b", Annotations: map[string]string{wellknown.GatewayNamespacesKey: "cart"}},
			Status:     corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "198.51.100.4"}}}},
		}},
		want: []Waypoint{{Namespace: "cart", Network: "n1", Addresses: []string{"198.51.100.4:15008"}, Gateway: "gw-b"}},
	}, {
		name:     "invalid names reported, the rest served",
		services: []corev1.Service{gatewayService("gw-b", "cart,Bad,a.b,,shop", "203.0.113.1:15008")},
		want: []Waypoint{
			{Namespace: "cart", Network: "n1", Addresses: []string{"203.0.113.1:15008"}, Gateway: "gw-b"},
			{Namespace: "shop", Network: "n1", Addresses: []string{"203.0.113.1:15008"}, Gateway: "gw-b"},
		},
		problems: []problem{{"gw-b", `"Bad", "a.b"`}},
	}, {
		name:     "empty list",
		services: []corev1.Service{gatewayService("gw-b", " , ", "203.0.113.1:15008")},
		problems: []problem{{"gw-b", "lists no namespace"}},
	}, {
		name:     "only invalid names",
		services: []corev1.Service{gatewayService("gw-b", "Shop", "203.0.113.1:15008")},
		problems: []problem{{"gw-b", `"Shop"`}, {"gw-b", "lists no namespace"}},
	}, {
		name: "own waypoint wins",
		services: []corev1.Service{
			gatewayService("gw-b", "shop,cart", "203.0.113.1:15008"),
			waypointService("shop", map[string]string{wellknown.HBONEAddressKey: "203.0.113.9:15008"}, nil),
		},
		want: []Waypoint{
			{Namespace: "cart", Network: "n1", Addresses: []string{"203.0.113.1:15008"}, Gateway: "gw-b"},
			{Namespace: "shop", Network: "shop-net", Addresses: []string{"203.0.113.9:15008"}},
		},
		problems: []problem{{"gw-b", "namespace shop has its own meshfed-waypoint"}},
	}, {
		name:     "not its own namespace",
		services: []corev1.Service{gatewayService("gw-b", "gw-b,cart", "203.0.113.1:15008")},
		want:     []Waypoint{{Namespace: "cart", Network: "n1", Addresses: []string{"203.0.113.1:15008"}, Gateway: "gw-b"}},
		problems: []problem{{"gw-b", "its own namespace gw-b"}},
	}, {
		name: "two gateways, the first namespace wins",
		services: []corev1.Service{
			gatewayService("gw-b", "cart,shop", "203.0.113.2:15008"),
			gatewayService("gw-a", "shop", "203.0.113.1:15008"),
		},
		want: []Waypoint{
			{Namespace: "cart", Network: "n1", Addresses: []string{"203.0.113.2:15008"}, Gateway: "gw-b"},
			{Namespace: "shop", Network: "dmz", Addresses: []string{"203.0.113.1:15008"}, Gateway: "gw-a"},
		},
		problems: []problem{{"gw-b", "namespace shop is served by the gateway in gw-a"}},
	}, {
		name: "invalid address as for a waypoint",
		services: []corev1.Service{{
			ObjectMeta: metav1.ObjectMeta{Name: wellknown.GatewayName, Namespace: "gw-b", Annotations: map[string]string{
				wellknown.GatewayNamespacesKey: "cart", wellknown.HBONEAddressKey: "nope",
			}},
			Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{Hostname: "gw.example"}}}},
		}},
		want:     []Waypoint{{Namespace: "cart", Network: "n1", Addresses: []string{"gw.example:15008"}, Gateway: "gw-b"}},
		problems: []problem{{"gw-b", wellknown.HBONEAddressKey}},
	}, {
		name: "not a gateway: no annotation, or another name",
		services: []corev1.Service{
			{ObjectMeta: metav1.ObjectMeta{Name: wellknown.GatewayName, Namespace: "gw-b"}},
			{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "gw-b", Annotations: map[string]string{wellknown.GatewayNamespacesKey: "cart"}}},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, problems := Waypoints(Site{Cluster: "east-1", Network: "n1"}, &Objects{Namespaces: labelled, Services: tc.services})
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Waypoints =\n%+v\nwant\n%+v", got, tc.want)
			}
			if len(problems) != len(tc.problems) {
				t.Fatalf("problems = %+v, want %d", problems, len(tc.problems))
			}
			for i, p := range problems {
				w := tc.problems[i]
				if p.Service.Namespace != w.gateway || p.Service.Name != wellknown.GatewayName || !strings.Contains(p.Message, w.text) {
					t.Errorf("problem %d = %+v, want one of %s/%s saying %q", i, p, w.gateway, wellknown.GatewayName, w.text)
				}
				if p.Reason != meshfedv1.GlobalServiceReasonInvalidGatewayNamespaces && p.Reason != meshfedv1.GlobalServiceReasonInvalidHBONEAddress {
					t.Errorf("problem %d has reason %s", i, p.Reason)
				}
			}
		})
	}
}

func TestParseGatewayNamespaces(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		bad  string
	}{
		{"shop", []string{"shop"}, ""},
		{" shop , cart ,shop", []string{"cart", "shop"}, ""},
		{"", nil, ""},
		{",,", nil, ""},
		{"shop,Cart", []string{"shop"}, `"Cart"`},
		{"a.b,c_d,-x", nil, `"a.b", "c_d", "-x"`},
		{strings.Repeat("a", 64) + ",ok", []string{"ok"}, strings.Repeat("a", 64)},
		{"shop,*", []string{"shop"}, `"*" (every namespace) must be the whole value`},
		{"*", nil, "must be the whole value"},
		{"*,Bad", nil, `"Bad"`},
	}
	for _, tc := range tests {
		got, err := ParseGatewayNamespaces(tc.in)
		if !slices.Equal(got, tc.want) {
			t.Errorf("ParseGatewayNamespaces(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if (err != nil) != (tc.bad != "") || (err != nil && !strings.Contains(err.Error(), tc.bad)) {
			t.Errorf("ParseGatewayNamespaces(%q) error = %v, want one naming %s", tc.in, err, tc.bad)
		}
	}
}

// FuzzParseGatewayNamespaces checks that every name returned is a namespace name, sorted and
// unique, that each is an entry of the input, and that no valid entry is lost: the names of
// the input minus the reported ones are exactly the result. A "*" entry, which stands only
// alone, is reported as such.
func FuzzParseGatewayNamespaces(f *testing.F) {
	for _, s := range []string{"shop,cart", " a , b ,a", "", ",", "A,b", "a.b", "x,\ty\n", "*", "a, * "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseGatewayNamespaces(s)
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Fatalf("ParseGatewayNamespaces(%q) = %q, not sorted and unique", s, got)
		}
		var valid, invalid int
		for entry := range strings.SplitSeq(s, ",") {
			switch e := strings.TrimSpace(entry); {
			case e == "":
			case e == wellknown.GatewayAllNamespaces:
				invalid++
				if err == nil || !strings.Contains(err.Error(), "must be the whole value") {
					t.Fatalf("ParseGatewayNamespaces(%q) error = %v, want one saying * stands alone", s, err)
				}
			case len(validation.IsDNS1123Label(e)) == 0:
				valid++
				if !slices.Contains(got, e) {
					t.Fatalf("ParseGatewayNamespaces(%q) = %q lost %q", s, got, e)
				}
			default:
				invalid++
			}
		}
		for _, ns := range got {
			if len(validation.IsDNS1123Label(ns)) > 0 {
				t.Fatalf("ParseGatewayNamespaces(%q) returned %q, not a namespace name", s, ns)
			}
		}
		if valid == 0 && len(got) != 0 || (invalid > 0) != (err != nil) {
			t.Fatalf("ParseGatewayNamespaces(%q) = %q, %v; %d valid, %d invalid entries", s, got, err, valid, invalid)
		}
	})
}
