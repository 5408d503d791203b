package member

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/meshfed/meshfed/apis/wellknown"
)

// largeSlices is a 50,000-endpoint Service in 50 slices of 1,000 on 300 Nodes in three zones,
// named as on a cloud cluster.
func largeSlices() ([]discoveryv1.EndpointSlice, map[string]*corev1.Node) {
	nodes := map[string]*corev1.Node{}
	nodeName := func(i int) string { return fmt.Sprintf("ip-10-20-%d-%d.eu-west-1.compute.internal", i/256, i%256) }
	for i := range 300 {
		nodes[nodeName(i)] = &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodeName(i), Labels: map[string]string{
			wellknown.RegionLabel: "eu-west-1", wellknown.ZoneLabel: "eu-west-1" + string(rune('a'+i%3)),
		}}}
	}
	port, pname := int32(8080), "http"
	var out []discoveryv1.EndpointSlice
	for s := range 50 {
		eps := discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: fmt.Sprintf("big-%03d", s), UID: types.UID(fmt.Sprint(s)), ResourceVersion: "1"},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: &pname, Port: &port}},
		}
		for i := s * 1000; i < (s+1)*1000; i++ {
			eps.Endpoints = append(eps.Endpoints, discoveryv1.Endpoint{
				Addresses:  []string{fmt.Sprintf("10.%d.%d.%d", 100+i/65536, i/256%256, i%256)},
				Conditions: discoveryv1.EndpointConditions{Ready: ptr(i%7 != 0)},
				NodeName:   ptr(nodeName(i * 7919 % 300)),
			})
		}
		out = append(out, eps)
	}
	return out, nodes
}

// BenchmarkEndpointsLarge: deriving a 50,000-endpoint Service's endpoints per pass, from
// scratch (as every pass did), through the cache when one endpoint of one slice changed since
// the last pass (its readiness flipped), and when none did.
func BenchmarkEndpointsLarge(b *testing.B) {
	site := Site{Cluster: "east-1", Network: "net-a", Region: "eu-west-1"}
	key := types.NamespacedName{Namespace: "shop", Name: "big"}
	eps, nodes := largeSlices()
	digest := nodeLocalities(nodes)
	b.Run("fresh", func(b *testing.B) {
		for b.Loop() {
			EndpointsFromSlices(site, eps, nodes)
		}
	})
	b.Run("one-slice-changed", func(b *testing.B) {
		var c EndpointsCache
		c.endpoints(key, site, eps, nodes, digest)
		rv := 1
		for b.Loop() {
			rv++
			s := &eps[rv*7%50]
			ready := s.Endpoints[rv*131%1000].Conditions.Ready
			*ready = !*ready
			s.ResourceVersion = fmt.Sprint(rv)
			c.endpoints(key, site, eps, nodes, nodeLocalities(nodes))
		}
	})
	b.Run("unchanged", func(b *testing.B) {
		var c EndpointsCache
		c.endpoints(key, site, eps, nodes, digest)
		for b.Loop() {
			c.endpoints(key, site, eps, nodes, nodeLocalities(nodes))
		}
	})
}
