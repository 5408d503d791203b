package member

import (
	"cmp"
	"container/heap"
	"log/slog"
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
// most ready copy winning (between copies as ready, the one in the slice first by name). The
// result is sorted by address.
func EndpointsFromSlices(site Site, eps []discoveryv1.EndpointSlice, nodes map[string]*corev1.Node) []model.Endpoint {
	lists := make([][]model.Endpoint, 0, len(eps))
	for _, i := range byName(eps) {
		lists = append(lists, SliceEndpoints(site, &eps[i], nodes))
	}
	return mergeSorted(lists)
}

// SliceEndpoints is EndpointsFromSlices of one slice: its endpoints sorted by address, each
// address once.
func SliceEndpoints(site Site, s *discoveryv1.EndpointSlice, nodes map[string]*corev1.Node) []model.Endpoint {
	if s.AddressType != discoveryv1.AddressTypeIPv4 && s.AddressType != discoveryv1.AddressTypeIPv6 {
		return nil
	}
	ports := slicePorts(s.Ports)
	out := make([]model.Endpoint, 0, len(s.Endpoints))
	for j := range s.Endpoints {
		for _, addr := range s.Endpoints[j].Addresses {
			ip, err := netip.ParseAddr(addr)
			if err != nil || ip.IsLoopback() || ip.IsUnspecified() {
				continue
			}
			out = append(out, endpoint(site, canonicalAddr(ip, addr), ports, &s.Endpoints[j], nodes))
		}
		if h := s.Endpoints[j].Hostname; h != nil && *h != "" && !model.ValidHostname(*h) {
			slog.Warn("endpoint hostname is not a DNS-1123 label; endpoint kept without it",
				"cluster", site.Cluster, "endpointslice", s.Namespace+"/"+s.Name, "hostname", *h)
		}
	}
	slices.SortStableFunc(out, func(a, b model.Endpoint) int { return cmp.Compare(a.Address, b.Address) })
	// One copy per address: the more ready, the first listed when as ready.
	kept := out[:0]
	for i := range out {
		if n := len(kept); n > 0 && kept[n-1].Address == out[i].Address {
			if rank(&out[i]) > rank(&kept[n-1]) {
				kept[n-1] = out[i]
			}
			continue
		}
		kept = append(kept, out[i])
	}
	return kept
}

// canonicalAddr is ip's text: addr, the text it was parsed from, when that is already ip's
// text (the usual case), instead of a copy of it for each endpoint.
func canonicalAddr(ip netip.Addr, addr string) string {
	var buf [64]byte
	if string(ip.AppendTo(buf[:0])) == addr {
		return addr
	}
	return ip.String()
}

// mergeSorted merges lists each sorted by address with one copy per address into one such
// list (n log k for k lists, each endpoint copied once); for an address in several lists the
// more ready copy wins, the earlier list's when as ready.
func mergeSorted(lists [][]model.Endpoint) []model.Endpoint {
	n := 0
	h := make(cursors, 0, len(lists))
	for i, l := range lists {
		n += len(l)
		if len(l) > 0 {
			h = append(h, cursor{list: i, eps: l})
		}
	}
	if len(h) == 1 {
		return h[0].eps
	}
	heap.Init(&h)
	out := make([]model.Endpoint, 0, n)
	for len(h) > 0 {
		c := &h[0]
		e := &c.eps[0]
		if k := len(out); k > 0 && out[k-1].Address == e.Address {
			if rank(e) > rank(&out[k-1]) {
				out[k-1] = *e
			}
		} else {
			out = append(out, *e)
		}
		if c.eps = c.eps[1:]; len(c.eps) == 0 {
			heap.Pop(&h)
		} else {
			heap.Fix(&h, 0)
		}
	}
	return out
}

// cursor is the rest of one sorted list being merged, and the list's position.
type cursor struct {
	list int
	eps  []model.Endpoint
}

// cursors is a heap of cursors by their next address, then by list.
type cursors []cursor

func (h cursors) Len() int { return len(h) }
func (h cursors) Less(i, j int) bool {
	return cmp.Or(cmp.Compare(h[i].eps[0].Address, h[j].eps[0].Address), cmp.Compare(h[i].list, h[j].list)) < 0
}
func (h cursors) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *cursors) Push(x any)   { *h = append(*h, x.(cursor)) }
func (h *cursors) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// byName returns the indexes of eps in the order of the slices' names (UIDs for equal names).
func byName(eps []discoveryv1.EndpointSlice) []int {
	idx := make([]int, len(eps))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(i, j int) int {
		return cmp.Or(cmp.Compare(eps[i].Name, eps[j].Name), cmp.Compare(eps[i].UID, eps[j].UID))
	})
	return idx
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
	hostname := ""
	if e.Hostname != nil && model.ValidHostname(*e.Hostname) {
		hostname = *e.Hostname
	}
	return model.Endpoint{
		Address:     addr,
		Hostname:    hostname,
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
