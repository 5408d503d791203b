package member

import (
	"net"
	"reflect"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
)

func waypointService(ns string, annotations map[string]string, ports []corev1.ServicePort, ingress ...corev1.LoadBalancerIngress) corev1.Service {
	return corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: wellknown.WaypointName, Namespace: ns, Annotations: annotations},
		Spec:       corev1.ServiceSpec{Ports: ports},
		Status:     corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: ingress}},
	}
}

func TestWaypoints(t *testing.T) {
	hbonePorts := []corev1.ServicePort{
		{Name: "hbone-h3", Port: 443, Protocol: corev1.ProtocolUDP},
		{Name: "hbone", Port: 443, Protocol: corev1.ProtocolTCP},
	}
	objs := &Objects{
		Namespaces: map[string]*corev1.Namespace{
			"edge": {ObjectMeta: metav1.ObjectMeta{Name: "edge", Labels: map[string]string{wellknown.NetworkLabel: "dmz"}}},
		},
		Services: []corev1.Service{
			waypointService("shop", map[string]string{wellknown.HBONEAddressKey: "203.0.113.7:15008"}, nil,
				corev1.LoadBalancerIngress{IP: "198.51.100.1"}),
			waypointService("edge", nil, hbonePorts,
				corev1.LoadBalancerIngress{Hostname: "wp.edge.example"}, corev1.LoadBalancerIngress{IP: "198.51.100.2"}, corev1.LoadBalancerIngress{}),
			waypointService("bad", map[string]string{wellknown.HBONEAddressKey: "no-port"}, nil,
				corev1.LoadBalancerIngress{IP: "198.51.100.3"}),
			waypointService("dark", nil, nil),
			{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"}},
		},
	}
	got, problems := Waypoints(Site{Cluster: "east-1", Network: "n1"}, objs)
	want := []Waypoint{
		{Namespace: "bad", Network: "n1", Addresses: []string{"198.51.100.3:15008"}},
		{Namespace: "dark", Network: "n1"},
		{Namespace: "edge", Network: "dmz", Addresses: []string{"198.51.100.2:443", "wp.edge.example:443"}},
		{Namespace: "shop", Network: "n1", Addresses: []string{"203.0.113.7:15008"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Waypoints =\n%+v\nwant\n%+v", got, want)
	}
	if len(problems) != 1 || problems[0].Service.Namespace != "bad" || problems[0].Reason != meshfedv1.GlobalServiceReasonInvalidHBONEAddress {
		t.Errorf("problems = %+v, want one InvalidHBONEAddress for bad/%s", problems, wellknown.WaypointName)
	}
}

func TestParseHBONEAddress(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"10.0.0.1:15008", "10.0.0.1:15008", true},
		{"[2001:db8::1]:15008", "[2001:db8::1]:15008", true},
		{"[::ffff:10.0.0.1]:443", "10.0.0.1:443", true},
		{"wp.shop.example:0443", "wp.shop.example:443", true},
		{"10.0.0.1", "", false},
		{"10.0.0.1:0", "", false},
		{"10.0.0.1:65536", "", false},
		{"10.0.0.1:-1", "", false},
		{"Bad_Host:15008", "", false},
		{":15008", "", false},
		{"[fe80::1%eth0]:15008", "", false},
		{"wp.example:http", "", false},
	}
	for _, tc := range tests {
		got, err := ParseHBONEAddress(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseHBONEAddress(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// FuzzParseHBONEAddress checks that an accepted address is canonical: it parses again to
// itself and splits into a host and a port in 1–65535.
func FuzzParseHBONEAddress(f *testing.F) {
	for _, s := range []string{"10.0.0.1:15008", "[2001:db8::1]:1", "wp.example:443", "x:", ":1", "[::1]:99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseHBONEAddress(s)
		if err != nil {
			return
		}
		again, err := ParseHBONEAddress(got)
		if err != nil || again != got {
			t.Fatalf("%q → %q, which parses to %q, %v", s, got, again, err)
		}
		host, port, err := net.SplitHostPort(got)
		if err != nil || host == "" {
			t.Fatalf("%q → %q does not split: %v", s, got, err)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			t.Fatalf("%q → %q has port %q", s, got, port)
		}
	})
}
