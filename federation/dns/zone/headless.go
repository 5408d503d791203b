package zone

import (
	"cmp"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/meshfed/meshfed/apis/wellknown"
)

// headless adds the names of a Headless service (MCS DNS specification §2.4): the clusterset
// name and the hostname answer with the addresses of every ready endpoint, their SRV records
// point at each endpoint's own name <hostname>.<cluster ID>.<name>.<ns>.svc.clusterset.local,
// which answers with that endpoint's addresses. Endpoints whose name would not be a DNS label
// are left out. Without endpoints the service has no names.
func (b *builder) headless(s *Service) {
	base := s.Name + "." + s.Namespace + ".svc." + wellknown.ClusterSetDomain
	e := &entry{members: []*member{}}
	byName := map[string]*member{}
	for i := range s.Endpoints {
		ep := &s.Endpoints[i]
		label, cluster := ep.label(), strings.ToLower(ep.ClusterID)
		if !wellknown.IsDNSLabel(label) || !wellknown.IsDNSLabel(cluster) || len(ep.Addresses) == 0 {
			b.problem(s, "endpoint %v of cluster %q left out: %q is not a DNS label", ep.Addresses, ep.ClusterID, label)
			continue
		}
		name := label + "." + cluster + "." + base
		m := byName[name]
		if m == nil {
			m = &member{node: &node{name: name + ".", svc: &entry{}}}
			byName[name] = m
			e.members = append(e.members, m)
			b.add(wellknown.ClusterSetDomain, name, func(n *node) { n.svc = m.node.svc; m.node = n })
		}
		addAddresses(m.node.svc, ep.Addresses)
		addAddresses(e, ep.Addresses)
		ports := newEntry(&Service{Ports: ep.Ports})
		for _, num := range ports.numbers {
			if !slices.Contains(m.numbers, num) {
				m.numbers = append(m.numbers, num)
			}
			if !slices.Contains(e.numbers, num) {
				e.numbers = append(e.numbers, num)
			}
		}
		for _, p := range ports.named {
			if !slices.Contains(m.named, p) {
				m.named = append(m.named, p)
			}
			if !slices.ContainsFunc(e.named, func(q namedPort) bool { return q.label == p.label && q.proto == p.proto }) {
				e.named = append(e.named, p)
			}
		}
	}
	if len(e.members) == 0 {
		b.problem(s, "headless, with no ready endpoint")
		return
	}
	slices.SortFunc(e.members, func(a, b *member) int { return cmp.Compare(a.node.name, b.node.name) })
	b.names(e, wellknown.ClusterSetDomain, base)
	if s.Hostname != "" {
		if zone, err := b.hostnameZone(s); err != nil {
			b.problem(s, "hostname left out: %v", err)
		} else {
			b.addZone(zone)
			b.names(e, zone, normalize(s.Hostname))
		}
	}
	b.t.services++
}

// addAddresses adds addresses to e's A and AAAA records, each once.
func addAddresses(e *entry, addrs []netip.Addr) {
	for _, ip := range addrs {
		if ip.Is4() || ip.Is4In6() {
			v := net.IP(ip.Unmap().AsSlice())
			if !slices.ContainsFunc(e.v4, v.Equal) {
				e.v4 = append(e.v4, v)
			}
		} else if v := net.IP(ip.AsSlice()); !slices.ContainsFunc(e.v6, v.Equal) {
			e.v6 = append(e.v6, v)
		}
	}
}

// memberSRV are the SRV records of a Headless service's name owner (p nil: one per endpoint
// and port number) or of its port p (one per endpoint serving it, with the endpoint's port
// number), targets the endpoints' own names, with their addresses as additional records.
func (t *Table) memberSRV(owner string, e *entry, p *namedPort) (answer, extra []dns.RR) {
	type rec struct {
		m   *member
		num uint16
	}
	var recs []rec
	for _, m := range e.members {
		if p == nil {
			for _, num := range m.numbers {
				recs = append(recs, rec{m, num})
			}
			continue
		}
		for _, q := range m.named {
			if q.label == p.label && q.proto == p.proto {
				recs = append(recs, rec{m, q.number})
			}
		}
	}
	if len(recs) == 0 {
		return nil, nil
	}
	weight := uint16(max(1, 100/len(recs)))
	for i, r := range recs {
		answer = append(answer, &dns.SRV{Hdr: hdr(owner, dns.TypeSRV, t.ttl), Weight: weight, Port: r.num, Target: r.m.node.name})
		if i == 0 || recs[i-1].m != r.m {
			extra = append(extra, t.addresses(r.m.node, dns.TypeANY)...)
		}
	}
	return answer, extra
}
