package writeback

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	mcsv1beta1 "sigs.k8s.io/mcs-api/pkg/apis/v1beta1"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/model"
)

// MaxSliceEndpoints is the most endpoints the hub puts in one MCS EndpointSlice: the
// Kubernetes EndpointSlice API's limit (1000).
const MaxSliceEndpoints = 1000

// SliceMode says which imported services get MCS EndpointSlices in importing members.
type SliceMode string

// The slice modes.
const (
	// SlicesAll writes MCS EndpointSlices for every imported service.
	SlicesAll SliceMode = "all"
	// SlicesHeadless writes them for Headless imports only (whose DNS names need them).
	SlicesHeadless SliceMode = "headless"
	// SlicesNone writes none, and removes those written before.
	SlicesNone SliceMode = "none"
)

// ParseSliceMode parses a --mcs-endpointslices value.
func ParseSliceMode(s string) (SliceMode, error) {
	switch m := SliceMode(s); m {
	case SlicesAll, SlicesHeadless, SlicesNone:
		return m, nil
	}
	return "", fmt.Errorf("invalid MCS EndpointSlice mode %q: want all, headless or none", s)
}

// wants reports whether an import of g gets MCS EndpointSlices in mode m.
func (m SliceMode) wants(g *model.GlobalService) bool {
	switch m {
	case SlicesAll:
		return true
	case SlicesHeadless:
		return g.Type == model.ServiceTypeHeadless
	default:
		return false
	}
}

// sliceGroup is the endpoints of one source cluster of one address family that share their
// ports: the endpoints of one run of EndpointSlices.
type sliceGroup struct {
	clusterID string
	family    discoveryv1.AddressType
	ports     []discoveryv1.EndpointPort
	endpoints []*model.Endpoint
	// base names the group's slices: <base>-<n>.
	base string
}

// desiredEndpointSlices builds the MCS EndpointSlices of global service g in an importing
// member, from the endpoints of every source cluster the member may address (sources, see
// merge.Service.EndpointsFor) and those clusters' IDs (a source whose ID is not known yet is
// left out until it is). cur are the member's current MCS slices of g: an endpoint already in
// one of them stays in it while it is in the same group and the slice has room, so that one
// endpoint's change rewrites one slice, not every slice after it. The result is sorted by name;
// the owner is the member's ServiceImport of g.
func desiredEndpointSlices(g *model.GlobalService, sources []merge.ClusterEndpoints, clusterIDs map[string]string, cur []*discoveryv1.EndpointSlice, owner metav1.OwnerReference) []*discoveryv1.EndpointSlice {
	var out []*discoveryv1.EndpointSlice
	for _, grp := range sliceGroups(g, sources, clusterIDs) {
		for i, eps := range place(grp, cur) {
			out = append(out, newEndpointSlice(g, grp, grp.base+"-"+strconv.Itoa(i), eps, owner))
		}
	}
	slices.SortFunc(out, func(a, b *discoveryv1.EndpointSlice) int { return cmp.Compare(a.Name, b.Name) })
	return slices.DeleteFunc(out, func(s *discoveryv1.EndpointSlice) bool { return len(s.Endpoints) == 0 })
}

// sliceGroups splits the sources' endpoints into groups by cluster, address family and ports.
func sliceGroups(g *model.GlobalService, sources []merge.ClusterEndpoints, clusterIDs map[string]string) []*sliceGroup {
	var out []*sliceGroup
	for _, src := range sources {
		id := clusterIDs[src.Cluster]
		if id == "" {
			continue
		}
		byKey := map[string]*sliceGroup{}
		for i := range src.Endpoints {
			e := &src.Endpoints[i]
			family, ok := addressType(e.Address)
			if !ok {
				continue
			}
			ports := slicePorts(g, e)
			key := string(family) + "/" + portsKey(ports)
			grp := byKey[key]
			if grp == nil {
				grp = &sliceGroup{clusterID: id, family: family, ports: ports, base: sliceBase(g.Name, id, key)}
				byKey[key] = grp
				out = append(out, grp)
			}
			grp.endpoints = append(grp.endpoints, e)
		}
	}
	return out
}

// addressType is the EndpointSlice address type of an address.
func addressType(addr string) (discoveryv1.AddressType, bool) {
	a, err := netip.ParseAddr(addr)
	switch {
	case err != nil:
		return "", false
	case a.Is4() || a.Is4In6():
		return discoveryv1.AddressTypeIPv4, true
	default:
		return discoveryv1.AddressTypeIPv6, true
	}
}

// slicePorts are the EndpointSlice ports of endpoint e: for every port of g the endpoint
// serves, its name, protocol and appProtocol and the endpoint's own port number.
func slicePorts(g *model.GlobalService, e *model.Endpoint) []discoveryv1.EndpointPort {
	out := []discoveryv1.EndpointPort{}
	for _, p := range g.Ports {
		target, ok := e.TargetPort(p.Name)
		if !ok {
			continue
		}
		out = append(out, discoveryv1.EndpointPort{Name: &p.Name, Protocol: new(protocolOf(p)), Port: &target, AppProtocol: appProtocolOf(p)})
	}
	return out
}

// portsKey identifies a port list.
func portsKey(ports []discoveryv1.EndpointPort) string {
	var b strings.Builder
	for _, p := range ports {
		fmt.Fprintf(&b, "%s/%s/%d/%s;", *p.Name, *p.Protocol, *p.Port, derefString(p.AppProtocol))
	}
	return b.String()
}

// sliceBase names a group's slices: the service name (cut to leave room) and a hash of the
// source cluster's ID, the address family and the ports, so that each group's names are its
// own and stay the same from pass to pass.
func sliceBase(svc, clusterID, key string) string {
	h := fnv.New64a()
	h.Write([]byte(clusterID + "\x00" + key))
	return fmt.Sprintf("%s-%012x", svc[:min(len(svc), 40)], h.Sum64()&(1<<48-1))
}

// place assigns the group's endpoints to its slices, at most MaxSliceEndpoints each: an
// endpoint stays in the slice (of this group, <base>-<n>) that holds its address now while that
// slice has room; the rest fill the slices with room in order, then new ones. The result is
// indexed by n; an index no endpoint is placed in is empty.
func place(grp *sliceGroup, cur []*discoveryv1.EndpointSlice) [][]*model.Endpoint {
	where := map[string]int{} // address → the index of the current slice of this group holding it
	for _, s := range cur {
		n, ok := sliceIndex(s.Name, grp.base)
		if !ok || s.AddressType != grp.family {
			continue
		}
		for _, e := range s.Endpoints {
			for _, a := range e.Addresses {
				where[a] = n
			}
		}
	}
	var out [][]*model.Endpoint
	var rest []*model.Endpoint
	for _, e := range grp.endpoints {
		n, ok := where[e.Address]
		if !ok {
			rest = append(rest, e)
			continue
		}
		for len(out) <= n {
			out = append(out, nil)
		}
		if len(out[n]) >= MaxSliceEndpoints {
			rest = append(rest, e)
			continue
		}
		out[n] = append(out[n], e)
	}
	for n := 0; len(rest) > 0; n++ {
		for len(out) <= n {
			out = append(out, nil)
		}
		room := MaxSliceEndpoints - len(out[n])
		take := min(room, len(rest))
		out[n] = append(out[n], rest[:take]...)
		rest = rest[take:]
	}
	for _, eps := range out {
		slices.SortFunc(eps, func(a, b *model.Endpoint) int { return cmp.Compare(a.Address, b.Address) })
	}
	return out
}

// sliceIndex returns n of a slice named <base>-<n>.
func sliceIndex(name, base string) (int, bool) {
	rest, ok := strings.CutPrefix(name, base+"-")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 || n > 1<<20 || strconv.Itoa(n) != rest {
		return 0, false
	}
	return n, true
}

// mcsSliceLabels are the labels of g's MCS EndpointSlices from the source cluster clusterID:
// the MCS labels, meshfed's endpointslice.kubernetes.io/managed-by and the write-back labels.
// No kubernetes.io/service-name: kube-proxy and the cluster DNS ignore the slices.
func mcsSliceLabels(name, clusterID string) map[string]string {
	l := writeBackLabels(name)
	l[mcsv1beta1.LabelServiceName] = name
	l[mcsv1beta1.LabelSourceCluster] = clusterID
	l[discoveryv1.LabelManagedBy] = wellknown.EndpointSliceManagedByValue
	return l
}

// newEndpointSlice builds one MCS EndpointSlice.
func newEndpointSlice(g *model.GlobalService, grp *sliceGroup, name string, eps []*model.Endpoint, owner metav1.OwnerReference) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: g.Namespace, Labels: mcsSliceLabels(g.Name, grp.clusterID),
			OwnerReferences: []metav1.OwnerReference{owner},
		},
		AddressType: grp.family,
		Ports:       grp.ports,
		Endpoints:   make([]discoveryv1.Endpoint, 0, len(eps)),
	}
	for _, e := range eps {
		ep := discoveryv1.Endpoint{
			Addresses:  []string{e.Address},
			Conditions: discoveryv1.EndpointConditions{Ready: new(e.Ready), Serving: new(e.Serving), Terminating: new(e.Terminating)},
		}
		if e.Hostname != "" {
			ep.Hostname = new(e.Hostname)
		}
		if e.Locality.Zone != "" {
			ep.Zone = new(e.Locality.Zone)
		}
		s.Endpoints = append(s.Endpoints, ep)
	}
	return s
}

// sliceEqual reports whether cur already has what desired asks for: labels, owner, address
// type, ports and endpoints.
func sliceEqual(cur, desired *discoveryv1.EndpointSlice) bool {
	return hasLabels(cur.Labels, desired.Labels) && cur.AddressType == desired.AddressType &&
		equality.Semantic.DeepEqual(cur.OwnerReferences, desired.OwnerReferences) &&
		equality.Semantic.DeepEqual(cur.Ports, desired.Ports) && endpointsEqual(cur.Endpoints, desired.Endpoints)
}
