package member

import (
	"reflect"
	"testing"
	"unsafe"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
)

func ptr[T any](v T) *T { return &v }

func TestEndpointsFromSlices(t *testing.T) {
	site := Site{Cluster: "east-1", Network: "net-a", Region: "default-region"}
	nodes := map[string]*corev1.Node{
		"n1": {ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{
			wellknown.RegionLabel: "us-east", wellknown.ZoneLabel: "us-east-1a", wellknown.SubzoneLabel: "rack7",
		}}},
		"n2": {ObjectMeta: metav1.ObjectMeta{Name: "n2"}},
	}
	port := []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(8080))}, {Name: ptr("grpc"), Port: ptr(int32(9090))}}
	slicesIn := []discoveryv1.EndpointSlice{
		{
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       port,
			Endpoints: []discoveryv1.Endpoint{
				{Addresses: []string{"10.0.0.2"}, Hostname: ptr("web-0"), NodeName: ptr("n1"), Zone: ptr("ignored-zone")},
				// A hostname that is no DNS-1123 label is dropped; the endpoint stays.
				{Addresses: []string{"10.0.0.1"}, Hostname: ptr("Web_1"), NodeName: ptr("n2"), Zone: ptr("slice-zone"), Conditions: discoveryv1.EndpointConditions{Ready: ptr(false), Serving: ptr(true), Terminating: ptr(true)}},
				{Addresses: []string{"127.0.0.1"}},
				{Addresses: []string{"not-an-ip"}},
				{Addresses: []string{"10.0.0.3"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr(false)}},
			},
		},
		// A second slice repeating 10.0.0.3, ready this time: the ready copy wins.
		{AddressType: discoveryv1.AddressTypeIPv4, Ports: port, Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.3"}, NodeName: ptr("gone")}}},
		{AddressType: discoveryv1.AddressTypeFQDN, Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"example.com"}}}},
	}
	wantPorts := []model.EndpointPort{{Name: "grpc", Port: 9090}, {Name: "http", Port: 8080}}
	want := []model.Endpoint{
		{
			Address: "10.0.0.1", Ports: wantPorts, Serving: true, Terminating: true,
			Locality: model.Locality{Network: "net-a", Region: "default-region", Zone: "slice-zone", Node: "n2", Cluster: "east-1"},
		},
		{
			Address: "10.0.0.2", Hostname: "web-0", Ports: wantPorts, Ready: true, Serving: true,
			Locality: model.Locality{Network: "net-a", Region: "us-east", Zone: "us-east-1a", Subzone: "rack7", Node: "n1", Cluster: "east-1"},
		},
		{
			Address: "10.0.0.3", Ports: wantPorts, Ready: true, Serving: true,
			Locality: model.Locality{Network: "net-a", Region: "default-region", Node: "gone", Cluster: "east-1"},
		},
	}
	got := EndpointsFromSlices(site, slicesIn, nodes)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, want)
	}
}

func TestNetworkOf(t *testing.T) {
	if got := NetworkOf("a", nil); got != "a" {
		t.Errorf("nil namespace: %q", got)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{wellknown.NetworkLabel: "b"}}}
	if got := NetworkOf("a", ns); got != "b" {
		t.Errorf("override: %q", got)
	}
}

// TestSliceEndpointsAddresses: an endpoint's address is the text the slice holds when that is
// already the address's canonical text (not a copy of it), and the canonical text otherwise.
func TestSliceEndpointsAddresses(t *testing.T) {
	s := &discoveryv1.EndpointSlice{AddressType: discoveryv1.AddressTypeIPv6, Endpoints: []discoveryv1.Endpoint{
		{Addresses: []string{"2001:db8::1"}}, {Addresses: []string{"2001:DB8:0::2"}},
	}}
	got := SliceEndpoints(Site{Cluster: "c1"}, s, nil)
	if len(got) != 2 || got[0].Address != "2001:db8::1" || got[1].Address != "2001:db8::2" {
		t.Fatalf("addresses %+v", got)
	}
	if unsafe.StringData(got[0].Address) != unsafe.StringData(s.Endpoints[0].Addresses[0]) {
		t.Error("a canonical address was copied")
	}
}
