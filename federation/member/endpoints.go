package member

import (
	"cmp"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
)

// Site is where a cluster's endpoints of one namespace sit before their Nodes refine it: the
// cluster's name and region default, and its network after the Namespace override.
type Site struct {
	Cluster string
	Network string
	Region  string
}

// NetworkOf returns the network of a namespace's endpoints: the Namespace label
// topology.istio.io/network when set, else the cluster's network.
func NetworkOf(clusterNetwork string, ns *corev1.Namespace) string {
	if ns != nil {
		if n := ns.Labels[wellknown.NetworkLabel]; n != "" {
			return n
		}
	}
	return clusterNetwork
}

// EndpointsFromSlices turns one Service's EndpointSlices into model endpoints with locality:
// region, zone and subzone from the endpoint's Node labels (the slice's zone, then the cluster's
// region, as fallbacks), node from nodeName. FQDN slices and unparsable or loopback addresses
// are skipped. An address listed in several slices (as during slice churn) appears once, the
// most ready copy winning. The result is sorted by address.
func EndpointsFromSlices(site Site, eps []discoveryv1.EndpointSlice, nodes map[string]*corev1.Node) []model.Endpoint {
	byAddr := map[string]model.Endpoint{}
	for i := range eps {
		s := &eps[i]
		if s.AddressType != discoveryv1.AddressTypeIPv4 && s.AddressType != discoveryv1.AddressTypeIPv6 {
			continue
		}
		ports := slicePorts(s.Ports)
		for j := range s.Endpoints {
			for _, addr := range s.Endpoints[j].Addresses {
				ip, err := netip.ParseAddr(addr)
				if err != nil || ip.IsLoopback() || ip.IsUnspecified() {
					continue
				}
				e := endpoint(site, ip.String(), ports, &s.Endpoints[j], nodes)
				if old, ok := byAddr[e.Address]; !ok || rank(&e) > rank(&old) {
					byAddr[e.Address] = e
				}
			}
		}
	}
	out := make([]model.Endpoint, 0, len(byAddr))
	for _, e := range byAddr {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b model.Endpoint) int { return cmp.Compare(a.Address, b.Address) })
	return out
}

func slicePorts(ps []discoveryv1.EndpointPort) []model.EndpointPort {
	out := make([]model.EndpointPort, 0, len(ps))
	for _, p := range ps {
		if p.Port == nil {
			continue
		}
		ep := model.EndpointPort{Port: *p.Port}
		if p.Name != nil {
			ep.Name = *p.Name
		}
		out = append(out, ep)
	}
	slices.SortFunc(out, func(a, b model.EndpointPort) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

func endpoint(site Site, addr string, ports []model.EndpointPort, e *discoveryv1.Endpoint, nodes map[string]*corev1.Node) model.Endpoint {
	// EndpointSlice semantics: a nil ready means ready, a nil serving means as ready, a nil
	// terminating means not terminating.
	ready := e.Conditions.Ready == nil || *e.Conditions.Ready
	serving := ready
	if e.Conditions.Serving != nil {
		serving = *e.Conditions.Serving
	}
	loc := model.Locality{Network: site.Network, Region: site.Region, Cluster: site.Cluster}
	if e.Zone != nil {
		loc.Zone = *e.Zone
	}
	if e.NodeName != nil {
		loc.Node = *e.NodeName
		if n := nodes[*e.NodeName]; n != nil {
			loc.Region = cmp.Or(n.Labels[wellknown.RegionLabel], loc.Region)
			loc.Zone = cmp.Or(n.Labels[wellknown.ZoneLabel], loc.Zone)
			loc.Subzone = n.Labels[wellknown.SubzoneLabel]
		}
	}
	return model.Endpoint{
		Address:     addr,
		Ports:       ports,
		Locality:    loc,
		Ready:       ready,
		Serving:     serving,
		Terminating: e.Conditions.Terminating != nil && *e.Conditions.Terminating,
	}
}

// rank orders duplicate copies of an address: healthy beats serving beats anything.
func rank(e *model.Endpoint) int {
	switch {
	case e.Healthy():
		return 2
	case e.Serving:
		return 1
	default:
		return 0
	}
}
