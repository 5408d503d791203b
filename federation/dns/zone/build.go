package zone

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/meshfed/meshfed/apis/wellknown"
)

// DefaultTTL is the TTL of every record unless Options say otherwise: short, so that clients
// follow a changed import within seconds.
const DefaultTTL = 5

// DNSSchemaVersion is the version of the MCS DNS specification the clusterset zone follows,
// served as TXT at dns-version.<clusterset zone> (KEP-1645, specification §2.2).
const DNSSchemaVersion = "1.0.0"

// SOA timers of every zone; the zones are not transferred, so only the TTL and the negative
// caching time (the minimum, RFC 2308) reach clients, and both are the record TTL.
const (
	soaRefresh = 7200
	soaRetry   = 1800
	soaExpire  = 86400
)

// Options configure Build.
type Options struct {
	// TTL of every record and of negative answers; 0 means DefaultTTL.
	TTL uint32
	// ClusterDomain is the cluster's own domain, where takeover names live; "" means
	// wellknown.DefaultClusterDomain.
	ClusterDomain string
	// Zones are served even when no service names them (so their names get NXDOMAIN rather
	// than REFUSED before the first import). The clusterset zone is always served.
	Zones []string
	// Serial is the SOA serial of every zone: a caller bumps it when the table changes.
	Serial uint32
}

func (o Options) withDefaults() Options {
	o.TTL = cmp.Or(o.TTL, DefaultTTL)
	o.ClusterDomain = strings.TrimSuffix(strings.ToLower(cmp.Or(o.ClusterDomain, wellknown.DefaultClusterDomain)), ".")
	return o
}

// Validate checks the cluster domain and the zones.
func (o Options) Validate() error {
	o = o.withDefaults()
	var errs []error
	if !IsDomain(o.ClusterDomain) {
		errs = append(errs, fmt.Errorf("invalid cluster domain %q", o.ClusterDomain))
	}
	for _, z := range o.Zones {
		if err := checkZone(normalize(z), o.ClusterDomain); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// normalize lowercases a domain and drops its trailing dot.
func normalize(s string) string { return strings.TrimSuffix(strings.ToLower(s), ".") }

// checkZone fails for a zone that is no domain or that would shadow the clusterset zone or the
// cluster's own domain (takeover zones inside it are made by Build, never named).
func checkZone(z, clusterDomain string) error {
	switch {
	case !IsDomain(z):
		return fmt.Errorf("invalid zone %q", z)
	case isSubdomain(z, wellknown.ClusterSetDomain):
		return fmt.Errorf("zone %q lies inside %s", z, wellknown.ClusterSetDomain)
	case isSubdomain(z, clusterDomain):
		return fmt.Errorf("zone %q lies inside the cluster domain %s", z, clusterDomain)
	default:
		return nil
	}
}

// Build makes the table of services (see Service.Released for the released takeovers among
// them). Services that cannot be served (no IPs, invalid names, a
// namespace and name seen twice) and hostnames that are not <name>.<ns>.<valid zone> are left
// out and listed in Table.Omissions; the rest is served. Build fails only for invalid Options.
func Build(services []Service, o Options) (*Table, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	b := builder{o: o, t: &Table{ttl: o.TTL, zones: map[string]*node{}, names: make(map[string]*node, 3*len(services))}, seen: make(map[string]bool, len(services))}
	b.addZone(wellknown.ClusterSetDomain)
	b.add(wellknown.ClusterSetDomain, "dns-version."+wellknown.ClusterSetDomain, func(n *node) {
		n.txt = []dns.RR{&dns.TXT{Hdr: hdr(n.name, dns.TypeTXT, b.o.TTL), Txt: []string{DNSSchemaVersion}}}
	})
	for _, z := range o.Zones {
		b.addZone(normalize(z))
	}
	for i := range services {
		if !services[i].Released {
			b.service(&services[i])
		}
	}
	for i := range services {
		if services[i].Released {
			b.released(&services[i])
		}
	}
	return b.t, nil
}

type builder struct {
	o    Options
	t    *Table
	seen map[string]bool
}

func hdr(owner string, t uint16, ttl uint32) dns.RR_Header {
	return dns.RR_Header{Name: owner, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
}

func (b *builder) problem(s *Service, format string, args ...any) {
	b.t.problems = append(b.t.problems, Omission{Namespace: s.Namespace, Name: s.Name, Reason: fmt.Sprintf(format, args...)})
}

// service adds the names of one service: the clusterset name always, the hostname and the
// takeover name when asked for.
func (b *builder) service(s *Service) {
	key := s.Namespace + "/" + s.Name
	switch {
	case !wellknown.IsDNSLabel(s.Namespace) || !wellknown.IsDNSLabel(s.Name):
		b.problem(s, "namespace and name must be DNS labels")
		return
	case b.seen[key]:
		b.problem(s, "listed twice")
		return
	case s.Headless:
		b.seen[key] = true
		b.headless(s)
		return
	case len(s.IPs) == 0:
		b.problem(s, "no IPs (headless, or the derived Service has no ClusterIP yet)")
		return
	}
	b.seen[key] = true
	e := newEntry(s)
	base := s.Name + "." + s.Namespace
	b.names(e, wellknown.ClusterSetDomain, base+".svc."+wellknown.ClusterSetDomain)
	if s.Hostname != "" {
		if zone, err := b.hostnameZone(s); err != nil {
			b.problem(s, "hostname left out: %v", err)
		} else {
			b.addZone(zone)
			b.names(e, zone, normalize(s.Hostname))
		}
	}
	if s.Takeover {
		name := base + ".svc." + b.o.ClusterDomain
		b.addZone(name)
		b.names(e, name, name)
		if b.t.names[name+"."] != nil {
			b.t.takeovers = append(b.t.takeovers, name+".")
		}
	}
	b.t.services++
}

// released serves the cluster-local name of a released takeover with the addresses of the
// cluster's own Service, unless an import takes that name over (Build adds every import first).
func (b *builder) released(s *Service) {
	if !wellknown.IsDNSLabel(s.Namespace) || !wellknown.IsDNSLabel(s.Name) {
		b.problem(s, "namespace and name must be DNS labels")
		return
	}
	name := s.Name + "." + s.Namespace + ".svc." + b.o.ClusterDomain
	key := "released " + name
	if _, taken := b.t.zones[name+"."]; taken || b.seen[key] {
		return
	}
	b.seen[key] = true
	b.addZone(name)
	if len(s.IPs) > 0 {
		b.names(newEntry(s), name, name)
	}
}

// hostnameZone returns the segment domain of s.Hostname, which must be <name>.<ns>.<zone>.
func (b *builder) hostnameZone(s *Service) (string, error) {
	h := normalize(s.Hostname)
	prefix := s.Name + "." + s.Namespace + "."
	zone, ok := strings.CutPrefix(h, prefix)
	if !ok {
		return "", fmt.Errorf("%q does not start with %q", s.Hostname, prefix)
	}
	return zone, checkZone(zone, b.o.ClusterDomain)
}

// names adds name (lowercase, no trailing dot) in zone as a name of the service e: its A/AAAA
// and SRV records, and those of _<port>._<proto>.name, are made from e when a query asks.
func (b *builder) names(e *entry, zone, name string) {
	b.add(zone, name, func(n *node) { n.svc = e })
}

// newEntry converts s once into what answers are made of.
func newEntry(s *Service) *entry {
	e := &entry{}
	for _, ip := range s.IPs {
		if ip.Is4() || ip.Is4In6() {
			e.v4 = append(e.v4, net.IP(ip.Unmap().AsSlice()))
		} else {
			e.v6 = append(e.v6, net.IP(ip.AsSlice()))
		}
	}
	for _, p := range s.Ports {
		if p.Number == 0 {
			continue
		}
		if !slices.Contains(e.numbers, p.Number) {
			e.numbers = append(e.numbers, p.Number)
		}
		proto := protocolLabel(p.Protocol)
		name := strings.ToLower(p.Name)
		if name != "" && proto != "" && wellknown.IsDNSLabel(name) {
			e.named = append(e.named, namedPort{label: "_" + name, proto: proto, number: p.Number})
		}
	}
	return e
}

// addZone makes zone (lowercase, no trailing dot) an apex with its SOA and NS records.
func (b *builder) addZone(zone string) {
	fq := zone + "."
	if _, ok := b.t.zones[fq]; ok {
		return
	}
	n := b.node(fq)
	ns := "ns.dns." + fq
	n.soa = []dns.RR{&dns.SOA{
		Hdr: hdr(fq, dns.TypeSOA, b.o.TTL), Ns: ns, Mbox: "hostmaster." + fq, Serial: b.o.Serial,
		Refresh: soaRefresh, Retry: soaRetry, Expire: soaExpire, Minttl: b.o.TTL,
	}}
	n.ns = []dns.RR{&dns.NS{Hdr: hdr(fq, dns.TypeNS, b.o.TTL), Ns: ns}}
	b.t.zones[fq] = n
}

// add calls fill with the node of name (lowercase, no trailing dot) in zone, making the node and
// the empty non-terminals between it and the zone's apex as needed. A name that would be
// longer than a domain name may be is skipped.
func (b *builder) add(zone, name string, fill func(n *node)) {
	if len(name) > 253 {
		return
	}
	fq := name + "."
	fill(b.node(fq))
	for parent := fq; parent != zone+"."; {
		i := strings.IndexByte(parent, '.')
		parent = parent[i+1:]
		if parent == "" {
			break
		}
		b.node(parent)
	}
}

// node returns the node of fq, made empty when absent.
func (b *builder) node(fq string) *node {
	n, ok := b.t.names[fq]
	if !ok {
		n = &node{name: fq}
		b.t.names[fq] = n
	}
	return n
}
