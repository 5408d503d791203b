package zone

import (
	"net"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Table is an immutable set of zones and the names in them. Every method is safe for
// concurrent use; a Table is never changed after Build.
type Table struct {
	ttl uint32
	// zones maps each zone apex (lowercase, fully qualified) to its node.
	zones map[string]*node
	// names maps every name that exists in a zone (lowercase, fully qualified) to its node:
	// apexes, the names of services, and the empty non-terminals between them. The SRV names
	// below a service's name (_<port>._<proto>.<name>) are not stored: they are resolved from
	// the service's ports when asked for.
	names    map[string]*node
	services int
	problems []Omission
	// takeovers are the cluster-local names taken over (not released ones), fully qualified,
	// in the order of the services.
	takeovers []string
}

// node is one name: the service it names, or the zone's SOA and NS records at an apex, or the
// TXT record of dns-version; nothing for an empty non-terminal.
type node struct {
	name    string // fully qualified, lowercase: the owner of every record
	svc     *entry
	txt     []dns.RR
	soa, ns []dns.RR
}

// entry is one service as its records are made: shared by its names.
type entry struct {
	v4, v6 []net.IP
	// numbers are the distinct port numbers, in order: the SRV records of the name itself.
	numbers []uint16
	// named are the ports with a name and a known protocol: the SRV names below the name.
	named []namedPort
	// members are a Headless service's endpoints, the targets of its SRV records; nil for a
	// service with a clusterset IP.
	members []*member
}

// member is one endpoint of a Headless service as a target of its SRV records.
type member struct {
	// node is the endpoint's own name; its entry holds the endpoint's addresses.
	node *node
	// numbers and named are the endpoint's ports, as entry's.
	numbers []uint16
	named   []namedPort
}

// namedPort is the port _<name>._<proto> of a service.
type namedPort struct {
	label, proto string // "_http", "_tcp"
	number       uint16
}

// resolve returns what name (lowercase, fully qualified) is in t: a stored node, or, for
// _<port>._<proto>.<service name>, the service's node and that port; for _<proto>.<service
// name> with a port of that protocol, an empty non-terminal. ok is false for a name that does
// not exist.
func (t *Table) resolve(name string) (n *node, port *namedPort, ok bool) {
	if n, ok := t.names[name]; ok {
		return n, nil, true
	}
	if !strings.HasPrefix(name, "_") {
		return nil, nil, false
	}
	first, rest, _ := strings.Cut(name, ".")
	if base, ok := t.names[rest]; ok && base.svc != nil { // _<proto>.<service name>
		for i := range base.svc.named {
			if base.svc.named[i].proto == first {
				return &node{name: name}, nil, true
			}
		}
		return nil, nil, false
	}
	second, rest, _ := strings.Cut(rest, ".")
	base, ok := t.names[rest]
	if !ok || base.svc == nil {
		return nil, nil, false
	}
	for i := range base.svc.named {
		if p := &base.svc.named[i]; p.label == first && p.proto == second {
			return base, p, true
		}
	}
	return nil, nil, false
}

// records returns the records of type qt of the name owner: node n's own, or the SRV record of
// port p of n's service when p is not nil, and the additional records that go with them.
func (t *Table) records(owner string, n *node, p *namedPort, qt uint16) (answer, extra []dns.RR) {
	if p != nil {
		if qt != dns.TypeSRV && qt != dns.TypeANY {
			return nil, nil
		}
		if n.svc.members != nil {
			return t.memberSRV(owner, n.svc, p)
		}
		srv := &dns.SRV{Hdr: hdr(owner, dns.TypeSRV, t.ttl), Priority: 0, Weight: 100, Port: p.number, Target: n.name}
		return []dns.RR{srv}, t.addresses(n, dns.TypeANY)
	}
	switch qt {
	case dns.TypeA, dns.TypeAAAA:
		return t.addresses(n, qt), nil
	case dns.TypeSRV:
		if n.svc != nil && n.svc.members != nil {
			return t.memberSRV(n.name, n.svc, nil)
		}
		return t.srv(n), t.addresses(n, dns.TypeANY)
	case dns.TypeTXT:
		return n.txt, nil
	case dns.TypeSOA:
		return n.soa, nil
	case dns.TypeNS:
		return n.ns, nil
	case dns.TypeANY:
		// RFC 8482 allows any subset; every record of the name is at most a few.
		var all []dns.RR
		for _, rrs := range [][]dns.RR{t.addresses(n, dns.TypeANY), t.srv(n), n.txt, n.soa, n.ns} {
			all = append(all, rrs...)
		}
		return all, nil
	default:
		return nil, nil
	}
}

// addresses are the A (qt A), AAAA (qt AAAA) or both (qt ANY) records of n's service.
func (t *Table) addresses(n *node, qt uint16) []dns.RR {
	if n.svc == nil {
		return nil
	}
	var out []dns.RR
	if qt != dns.TypeAAAA {
		for _, ip := range n.svc.v4 {
			out = append(out, &dns.A{Hdr: hdr(n.name, dns.TypeA, t.ttl), A: ip})
		}
	}
	if qt != dns.TypeA {
		for _, ip := range n.svc.v6 {
			out = append(out, &dns.AAAA{Hdr: hdr(n.name, dns.TypeAAAA, t.ttl), AAAA: ip})
		}
	}
	return out
}

// srv are the SRV records of n's own name: one per port number, weights splitting 100.
func (t *Table) srv(n *node) []dns.RR {
	if n.svc == nil || len(n.svc.numbers) == 0 || n.svc.members != nil {
		return nil
	}
	weight := uint16(max(1, 100/len(n.svc.numbers)))
	out := make([]dns.RR, 0, len(n.svc.numbers))
	for _, num := range n.svc.numbers {
		out = append(out, &dns.SRV{Hdr: hdr(n.name, dns.TypeSRV, t.ttl), Priority: 0, Weight: weight, Port: num, Target: n.name})
	}
	return out
}

// zoneOf returns the apex node of the most specific zone containing name (lowercase, fully
// qualified), or nil when no zone of t contains it.
func (t *Table) zoneOf(name string) *node {
	for off := 0; ; {
		if z, ok := t.zones[name[off:]]; ok {
			return z
		}
		next := strings.IndexByte(name[off:], '.')
		if next < 0 || off+next+1 >= len(name) {
			return nil
		}
		off += next + 1
	}
}

// Zones lists the zones of t, fully qualified, in no particular order.
func (t *Table) Zones() []string {
	out := make([]string, 0, len(t.zones))
	for z := range t.zones {
		out = append(out, z)
	}
	return out
}

// Services is how many services have at least one name in t.
func (t *Table) Services() int { return t.services }

// Names is how many names t stores (apexes and empty non-terminals included; the SRV names
// below services' names are not stored).
func (t *Table) Names() int { return len(t.names) }

// Takeovers lists the cluster-local names t takes over (<name>.<ns>.svc.<cluster domain>.,
// lowercase and fully qualified), without the released ones.
func (t *Table) Takeovers() []string { return slices.Clone(t.takeovers) }

// Omissions lists the services, or names of services, that Build left out, and why.
func (t *Table) Omissions() []Omission { return t.problems }
