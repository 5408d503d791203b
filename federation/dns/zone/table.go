package zone

import (
	"strings"

	"github.com/miekg/dns"
)

// Table is an immutable set of zones and the records in them. Every method is safe for
// concurrent use; a Table is never changed after Build.
type Table struct {
	// zones maps each zone apex (lowercase, fully qualified) to its node.
	zones map[string]*node
	// names maps every name that exists in a zone (lowercase, fully qualified) to its node:
	// apexes, names with records, and the empty non-terminals between them.
	names    map[string]*node
	services int
	problems []Problem
}

// node is one name: its records by type, the additional records of its SRV answers, and the
// zone's SOA and NS records when the name is a zone apex.
type node struct {
	a, aaaa, srv, txt []dns.RR
	// srvExtra holds the A/AAAA records of the SRV targets, for the additional section.
	srvExtra []dns.RR
	// soa and ns are set at a zone apex only.
	soa, ns []dns.RR
}

// records returns n's records of type t and the additional records that go with them.
func (n *node) records(t uint16) (answer, extra []dns.RR) {
	switch t {
	case dns.TypeA:
		return n.a, nil
	case dns.TypeAAAA:
		return n.aaaa, nil
	case dns.TypeSRV:
		return n.srv, n.srvExtra
	case dns.TypeTXT:
		return n.txt, nil
	case dns.TypeSOA:
		return n.soa, nil
	case dns.TypeNS:
		return n.ns, nil
	case dns.TypeANY:
		// RFC 8482 allows any subset; every record of the name is at most a few.
		var all []dns.RR
		for _, rrs := range [][]dns.RR{n.a, n.aaaa, n.srv, n.txt, n.soa, n.ns} {
			all = append(all, rrs...)
		}
		return all, nil
	default:
		return nil, nil
	}
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

// Names is how many names exist in t (apexes and empty non-terminals included).
func (t *Table) Names() int { return len(t.names) }

// Problems lists the services, or names of services, that Build left out, and why.
func (t *Table) Problems() []Problem { return t.problems }
