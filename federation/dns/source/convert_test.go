package source

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"

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
			want: zone.Service{Namespace: "shop", Name: "web", Ports: []zone.Port{{Name: "http", Protocol: "TCP", Number: 80}}},
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
