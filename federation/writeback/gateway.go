package writeback

import (
	"cmp"
	"context"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/member"
	"github.com/meshfed/meshfed/federation/model"
)

// A namespace that a shared gateway serves in a member has no waypoint pods of its own for the
// derived Service to select: the gateway's pods run in the gateway's namespace, and a Service
// selects pods of its own namespace only. There the derived Service has no selector, and the
// hub writes its EndpointSlices itself: the gateway pods' addresses and conditions, copied from
// the gateway Service's own slices, with each port mapped to the waypoint port allocated for
// it (the gateway listens on the ports of every namespace it serves; the hub allocates them
// so that they never collide). kube-proxy routes a selectorless Service by such slices as by
// any other; when a gateway pod turns unready or terminates, the hub's next pass copies that.

// servingGateways maps each namespace a shared gateway serves in the member to the gateway's
// namespace, by the rules the hub publishes them with (member.Waypoints).
func servingGateways(objs *member.Objects) map[string]string {
	ws, _ := member.Waypoints(member.Site{}, objs)
	out := map[string]string{}
	for _, w := range ws {
		if w.Gateway != "" {
			out[w.Namespace] = w.Gateway
		}
	}
	return out
}

// endpointSliceController is the managed-by label value of the slices Kubernetes' EndpointSlice
// controller makes for a Service with a selector.
const endpointSliceController = "endpointslice-controller.k8s.io"

// waypointOf is the Service of the waypoints that serve ns in the member: the namespace's own
// waypoint Service, or the shared gateway's Service when gateway is set.
func waypointOf(ns, gateway string) types.NamespacedName {
	if gateway != "" {
		return types.NamespacedName{Namespace: gateway, Name: wellknown.GatewayName}
	}
	return types.NamespacedName{Namespace: ns, Name: wellknown.WaypointName}
}

// gatewaySliceLabels are the labels of a derived Service's slices: the write-back labels, the
// Service they belong to, and the hub as their manager, so that Kubernetes' EndpointSlice
// controllers leave them alone.
func gatewaySliceLabels(g *model.GlobalService, derived *corev1.Service) map[string]string {
	l := writeBackLabels(g.Name)
	l[discoveryv1.LabelServiceName] = derived.Name
	l[discoveryv1.LabelManagedBy] = wellknown.EndpointSliceManagedByValue
	return l
}

// desiredGatewaySlices builds the EndpointSlices of derived, the selectorless derived Service
// of g in a namespace a shared gateway serves, from the gateway Service's slices: one slice per
// address type, named <derived>-<address type>, owned by derived, listing every gateway
// endpoint once (by address, sorted) with its conditions, node, zone and pod, and one port per
// derived port: its name, protocol and appProtocol, and the waypoint port it targets.
func desiredGatewaySlices(g *model.GlobalService, derived *corev1.Service, gateway []discoveryv1.EndpointSlice) []*discoveryv1.EndpointSlice {
	ports := make([]discoveryv1.EndpointPort, 0, len(derived.Spec.Ports))
	for _, p := range derived.Spec.Ports {
		ports = append(ports, discoveryv1.EndpointPort{
			Name: new(p.Name), Protocol: new(p.Protocol), Port: new(p.TargetPort.IntVal), AppProtocol: p.AppProtocol,
		})
	}
	byType := map[discoveryv1.AddressType]map[string]discoveryv1.Endpoint{}
	for i := range gateway {
		s := &gateway[i]
		if s.AddressType != discoveryv1.AddressTypeIPv4 && s.AddressType != discoveryv1.AddressTypeIPv6 {
			continue
		}
		for _, ep := range s.Endpoints {
			if len(ep.Addresses) == 0 {
				continue
			}
			if byType[s.AddressType] == nil {
				byType[s.AddressType] = map[string]discoveryv1.Endpoint{}
			}
			if _, dup := byType[s.AddressType][ep.Addresses[0]]; dup {
				continue
			}
			byType[s.AddressType][ep.Addresses[0]] = discoveryv1.Endpoint{
				Addresses: []string{ep.Addresses[0]}, Conditions: *ep.Conditions.DeepCopy(),
				NodeName: ep.NodeName, Zone: ep.Zone, TargetRef: ep.TargetRef.DeepCopy(),
			}
		}
	}
	owner := metav1.OwnerReference{APIVersion: "v1", Kind: "Service", Name: derived.Name, UID: derived.UID}
	var out []*discoveryv1.EndpointSlice
	for _, family := range []discoveryv1.AddressType{discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6} {
		eps := byType[family]
		if len(eps) == 0 {
			continue
		}
		s := &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{
				Name: derived.Name + "-" + strings.ToLower(string(family)), Namespace: derived.Namespace,
				Labels: gatewaySliceLabels(g, derived), OwnerReferences: []metav1.OwnerReference{owner},
			},
			AddressType: family,
			Ports:       slices.Clone(ports),
		}
		for _, ep := range eps {
			s.Endpoints = append(s.Endpoints, ep)
		}
		slices.SortFunc(s.Endpoints, func(a, b discoveryv1.Endpoint) int { return cmp.Compare(a.Addresses[0], b.Addresses[0]) })
		out = append(out, s)
	}
	return out
}

// writeGatewaySlices brings the slices of derived, the derived Service of g in a namespace the
// shared gateway of namespace gateway serves, in line with the gateway's pods. A gateway
// without endpoints gives no slice: the derived Service then has no endpoints, as one
// selecting no ready waypoint pod has none.
func (w *memberWriter) writeGatewaySlices(ctx context.Context, st *memberState, g *model.GlobalService, derived *corev1.Service, gateway string) error {
	cur := st.objs.EndpointSlices[types.NamespacedName{Namespace: g.Namespace, Name: derived.Name}]
	byName := make(map[string]*discoveryv1.EndpointSlice, len(cur))
	for i := range cur {
		s := &cur[i]
		switch {
		case hubSlice(s):
			byName[s.Name] = s
		case s.Labels[discoveryv1.LabelManagedBy] == endpointSliceController:
			// Left from when the derived Service selected the namespace's own waypoint: the
			// controller makes no slices for a Service without a selector, nor removes its old
			// ones, and kube-proxy would still send part of the traffic to them.
			uid := s.UID
			err := w.remove("EndpointSlice", s, w.conn.Cluster().GetClient().Delete(ctx, s.DeepCopy(), client.Preconditions{UID: &uid}))
			if err := ignoreLagged(err); err != nil {
				return err
			}
		}
	}
	for _, d := range desiredGatewaySlices(g, derived, st.objs.EndpointSlices[waypointOf(g.Namespace, gateway)]) {
		st.keep[objectRef("EndpointSlice", d)] = true
		if _, err := w.applySlice(ctx, byName[d.Name], d); err != nil {
			return ignoreLagged(err)
		}
	}
	return nil
}

// keepGatewaySlices keeps the slices the hub wrote for g's derived Service through this pass.
func keepGatewaySlices(st *memberState, g *model.GlobalService) {
	key := types.NamespacedName{Namespace: g.Namespace, Name: wellknown.DerivedServiceName(g.Name)}
	for i := range st.objs.EndpointSlices[key] {
		if s := &st.objs.EndpointSlices[key][i]; writtenBack(s) && hubSlice(s) {
			st.keep[objectRef("EndpointSlice", s)] = true
		}
	}
}
