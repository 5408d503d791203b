package source

import (
	"cmp"
	"net/netip"
	"slices"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	mcsv1beta1 "sigs.k8s.io/mcs-api/pkg/apis/v1beta1"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/dns/zone"
)

// endpointSlices are the MCS EndpointSlices the hub writes next to a ServiceImport: a Headless
// import's names are made from them.
var endpointSlices = schema.GroupVersionResource{Group: discoveryv1.GroupName, Version: "v1", Resource: "endpointslices"}

// sliceSelector selects the MCS EndpointSlices the hub wrote: meshfed's, with both MCS labels.
var sliceSelector = wellknown.ManagedByLabel + "=" + wellknown.ManagedByValue + "," + mcsv1beta1.LabelServiceName + "," + mcsv1beta1.LabelSourceCluster

// HeadlessEndpoints converts the MCS EndpointSlices of one service into its ready endpoints
// for the DNS table, sorted by source cluster, hostname and address. Slices of another address
// type, endpoints that are not ready (a nil ready counts as ready, as in the EndpointSlice API)
// and addresses that do not parse are left out; the source cluster is the slice's
// multicluster.kubernetes.io/source-cluster label.
func HeadlessEndpoints(eps []*discoveryv1.EndpointSlice) []zone.Endpoint {
	var out []zone.Endpoint
	for _, s := range eps {
		if s.AddressType != discoveryv1.AddressTypeIPv4 && s.AddressType != discoveryv1.AddressTypeIPv6 {
			continue
		}
		var ports []zone.Port
		for _, p := range s.Ports {
			if p.Port == nil || *p.Port < 1 || *p.Port > 65535 {
				continue
			}
			zp := zone.Port{Number: uint16(*p.Port), Protocol: "TCP"}
			if p.Name != nil {
				zp.Name = *p.Name
			}
			if p.Protocol != nil {
				zp.Protocol = string(*p.Protocol)
			}
			ports = append(ports, zp)
		}
		for _, e := range s.Endpoints {
			if e.Conditions.Ready != nil && !*e.Conditions.Ready {
				continue
			}
			ep := zone.Endpoint{ClusterID: s.Labels[mcsv1beta1.LabelSourceCluster], Ports: ports}
			if e.Hostname != nil {
				ep.Hostname = *e.Hostname
			}
			for _, a := range e.Addresses {
				if ip, err := netip.ParseAddr(a); err == nil && ip.Zone() == "" {
					ep.Addresses = append(ep.Addresses, ip)
				}
			}
			if len(ep.Addresses) > 0 {
				out = append(out, ep)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b zone.Endpoint) int {
		return cmp.Or(cmp.Compare(a.ClusterID, b.ClusterID), cmp.Compare(a.Hostname, b.Hostname), a.Addresses[0].Compare(b.Addresses[0]))
	})
	return out
}

// slicesByService groups the cached slices by namespace and MCS service name.
func slicesByService(store cache.Store) map[types.NamespacedName][]*discoveryv1.EndpointSlice {
	out := map[types.NamespacedName][]*discoveryv1.EndpointSlice{}
	for _, obj := range store.List() {
		if s, ok := obj.(*discoveryv1.EndpointSlice); ok {
			k := types.NamespacedName{Namespace: s.Namespace, Name: s.Labels[mcsv1beta1.LabelServiceName]}
			out[k] = append(out[k], s)
		}
	}
	for _, list := range out {
		slices.SortFunc(list, func(a, b *discoveryv1.EndpointSlice) int { return cmp.Compare(a.Name, b.Name) })
	}
	return out
}

// sliceInformer lists and watches the MCS EndpointSlices the hub wrote, in every namespace,
// and caches them as slim typed objects.
func (w *Watcher) sliceInformer() (cache.SharedIndexInformer, error) {
	return w.watch(endpointSlices, sliceSelector, "EndpointSlice", slimSlice)
}

// slimSlice decodes a listed or watched EndpointSlice and keeps only what the table reads: the
// MCS labels, address type, ports, and each endpoint's addresses, hostname and readiness. One
// that does not decode is kept empty: it serves no endpoint.
func slimSlice(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	s := &discoveryv1.EndpointSlice{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, s); err != nil {
		s = &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: u.GetNamespace(), Name: u.GetName(), ResourceVersion: u.GetResourceVersion(), Labels: u.GetLabels()}}
	}
	out := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: s.Name, ResourceVersion: s.ResourceVersion, Labels: map[string]string{
			mcsv1beta1.LabelServiceName: s.Labels[mcsv1beta1.LabelServiceName], mcsv1beta1.LabelSourceCluster: s.Labels[mcsv1beta1.LabelSourceCluster],
		}},
		AddressType: s.AddressType,
		Ports:       s.Ports,
		Endpoints:   make([]discoveryv1.Endpoint, 0, len(s.Endpoints)),
	}
	for _, e := range s.Endpoints {
		out.Endpoints = append(out.Endpoints, discoveryv1.Endpoint{Addresses: e.Addresses, Hostname: e.Hostname, Conditions: discoveryv1.EndpointConditions{Ready: e.Conditions.Ready}})
	}
	return out, nil
}
