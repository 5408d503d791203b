package source

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
	mcsv1beta1 "sigs.k8s.io/mcs-api/pkg/apis/v1beta1"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/dns/zone"
)

func TestService(t *testing.T) {
	imp := func(typ mcsv1alpha1.ServiceImportType, ips []string, ann map[string]string, ports ...mcsv1alpha1.ServicePort) *mcsv1alpha1.ServiceImport {
		return &mcsv1alpha1.ServiceImport{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web", Annotations: ann},
			Spec:       mcsv1alpha1.ServiceImportSpec{Type: typ, IPs: ips, Ports: ports},
		}
	}
	http := mcsv1alpha1.ServicePort{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80}
	tests := []struct {
		name string
		in   *mcsv1alpha1.ServiceImport
		want zone.Service
		err  string
	}{
		{
			name: "everything",
			in: imp(mcsv1alpha1.ClusterSetIP, []string{"10.96.0.10", "2001:db8::a"},
				map[string]string{wellknown.HostnameAnnotation: "web.shop.mesh.internal", wellknown.TakeoverAnnotation: "true"}, http,
				mcsv1alpha1.ServicePort{Protocol: corev1.ProtocolUDP, Port: 53}),
			want: zone.Service{
				Namespace: "shop", Name: "web", Hostname: "web.shop.mesh.internal", Takeover: true,
				IPs:   []netip.Addr{netip.MustParseAddr("10.96.0.10"), netip.MustParseAddr("2001:db8::a")},
				Ports: []zone.Port{{Name: "http", Protocol: "TCP", Number: 80}, {Protocol: "UDP", Number: 53}},
			},
		},
		{
			name: "no annotations: clusterset name only",
			in:   imp(mcsv1alpha1.ClusterSetIP, []string{"10.96.0.10"}, nil, http),
			want: zone.Service{Namespace: "shop", Name: "web", IPs: []netip.Addr{netip.MustParseAddr("10.96.0.10")}, Ports: []zone.Port{{Name: "http", Protocol: "TCP", Number: 80}}},
		},
		{
			name: "takeover false",
			in:   imp(mcsv1alpha1.ClusterSetIP, []string{"10.96.0.10"}, map[string]string{wellknown.TakeoverAnnotation: "False"}),
			want: zone.Service{Namespace: "shop", Name: "web", IPs: []netip.Addr{netip.MustParseAddr("10.96.0.10")}},
		},
		{
			name: "headless: no IPs even when listed",
			in:   imp(mcsv1alpha1.Headless, []string{"10.96.0.10"}, nil, http),
			want: zone.Service{Namespace: "shop", Name: "web", Headless: true, Ports: []zone.Port{{Name: "http", Protocol: "TCP", Number: 80}}},
		},
		{
			name: "bad IP left out",
			in:   imp(mcsv1alpha1.ClusterSetIP, []string{"10.96.0.300", "fe80::1%eth0", "10.96.0.10"}, nil),
			want: zone.Service{Namespace: "shop", Name: "web", IPs: []netip.Addr{netip.MustParseAddr("10.96.0.10")}},
			err:  `invalid IP "10.96.0.300"`,
		},
		{
			name: "bad takeover value",
			in:   imp(mcsv1alpha1.ClusterSetIP, []string{"10.96.0.10"}, map[string]string{wellknown.TakeoverAnnotation: "yes"}),
			want: zone.Service{Namespace: "shop", Name: "web", IPs: []netip.Addr{netip.MustParseAddr("10.96.0.10")}},
			err:  "neither true nor false",
		},
		{
			name: "port out of range",
			in:   imp(mcsv1alpha1.ClusterSetIP, []string{"10.96.0.10"}, nil, mcsv1alpha1.ServicePort{Name: "x", Port: 70000}),
			want: zone.Service{Namespace: "shop", Name: "web", IPs: []netip.Addr{netip.MustParseAddr("10.96.0.10")}},
			err:  "out of range",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Service(tt.in)
			if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("error %v, want %q", err, tt.err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestHeadlessEndpoints(t *testing.T) {
	p := func(v int32) *int32 { return &v }
	s := func(v string) *string { return &v }
	b := func(v bool) *bool { return &v }
	udp := corev1.ProtocolUDP
	slice := func(cluster string, at discoveryv1.AddressType, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
		return &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Labels: map[string]string{mcsv1beta1.LabelSourceCluster: cluster}},
			AddressType: at,
			Ports:       []discoveryv1.EndpointPort{{Name: s("tcp"), Port: p(42)}, {Name: s("udp"), Protocol: &udp, Port: p(42)}, {Name: s("bad"), Port: p(70000)}},
			Endpoints:   eps,
		}
	}
	got := HeadlessEndpoints([]*discoveryv1.EndpointSlice{
		slice("c2", discoveryv1.AddressTypeIPv4,
			discoveryv1.Endpoint{Addresses: []string{"10.2.0.1"}},                                                              // nil ready: ready
			discoveryv1.Endpoint{Addresses: []string{"10.2.0.2"}, Conditions: discoveryv1.EndpointConditions{Ready: b(false)}}, // not ready
			discoveryv1.Endpoint{Addresses: []string{"not-an-ip"}}),
		slice("c1", discoveryv1.AddressTypeIPv6, discoveryv1.Endpoint{Addresses: []string{"fd00::1"}, Hostname: s("db-0"), Conditions: discoveryv1.EndpointConditions{Ready: b(true)}}),
		slice("c1", discoveryv1.AddressTypeFQDN, discoveryv1.Endpoint{Addresses: []string{"example.com"}}),
	})
	ports := []zone.Port{{Name: "tcp", Protocol: "TCP", Number: 42}, {Name: "udp", Protocol: "UDP", Number: 42}}
	want := []zone.Endpoint{
		{ClusterID: "c1", Hostname: "db-0", Addresses: []netip.Addr{netip.MustParseAddr("fd00::1")}, Ports: ports},
		{ClusterID: "c2", Addresses: []netip.Addr{netip.MustParseAddr("10.2.0.1")}, Ports: ports},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, want)
	}
}
