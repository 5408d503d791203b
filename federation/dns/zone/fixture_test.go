package zone

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

// fixture is the table most tests query:
//
//	shop/web  10.96.0.10 2001:db8::a  http/TCP/80 dns/UDP/53 dns-tcp/TCP/53 -/TCP/8080  web.shop.mesh.internal  takeover
//	shop/api  10.96.0.11              grpc/TCP/9090                                     api.shop.mesh.internal
//	data/db   10.96.0.12              -/TCP/5432                                        db.data.east.example
//	shop/big  40 IPv4 and 40 IPv6     http/TCP/80                                       (none)
//	shop/headless (no IPs)
//	shop/db   headless: c1 db-0 10.1.0.1 fd00:1::1 tcp/TCP/5432; c2 (no hostname) 10.2.0.1 tcp/TCP/5432 udp/UDP/5353   db.shop.mesh.internal
//	shop/empty headless, no endpoints
//	shop/old  10.96.5.5               http/TCP/80   released takeover: old.shop.svc.cluster.local only
func fixture(t testing.TB) *Table {
	t.Helper()
	var bigIPs []netip.Addr
	for i := range 40 {
		bigIPs = append(bigIPs, netip.AddrFrom4([4]byte{10, 97, 0, byte(i + 1)}), netip.MustParseAddr(fmt.Sprintf("2001:db8::1:%x", i+1)))
	}
	tbl, err := Build([]Service{
		{
			Namespace: "shop", Name: "web", Hostname: "web.shop.mesh.internal", Takeover: true,
			IPs: []netip.Addr{netip.MustParseAddr("10.96.0.10"), netip.MustParseAddr("2001:db8::a")},
			Ports: []Port{
				{Name: "http", Protocol: "TCP", Number: 80}, {Name: "dns", Protocol: "UDP", Number: 53},
				{Name: "dns-tcp", Protocol: "TCP", Number: 53}, {Protocol: "TCP", Number: 8080},
			},
		},
		{Namespace: "shop", Name: "api", Hostname: "api.shop.mesh.internal", IPs: []netip.Addr{netip.MustParseAddr("10.96.0.11")}, Ports: []Port{{Name: "grpc", Protocol: "TCP", Number: 9090}}},
		{Namespace: "data", Name: "db", Hostname: "db.data.east.example", IPs: []netip.Addr{netip.MustParseAddr("10.96.0.12")}, Ports: []Port{{Protocol: "TCP", Number: 5432}}},
		{Namespace: "shop", Name: "big", IPs: bigIPs, Ports: []Port{{Name: "http", Protocol: "TCP", Number: 80}}},
		{Namespace: "shop", Name: "headless", Hostname: "headless.shop.mesh.internal"},
		{
			Namespace: "shop", Name: "db", Headless: true, Hostname: "db.shop.mesh.internal",
			Ports: []Port{{Name: "tcp", Protocol: "TCP", Number: 42}, {Name: "udp", Protocol: "UDP", Number: 42}},
			Endpoints: []Endpoint{
				{ClusterID: "c1", Hostname: "db-0", Addresses: []netip.Addr{netip.MustParseAddr("10.1.0.1")}, Ports: []Port{{Name: "tcp", Protocol: "TCP", Number: 5432}}},
				{ClusterID: "c1", Hostname: "db-0", Addresses: []netip.Addr{netip.MustParseAddr("fd00:1::1")}, Ports: []Port{{Name: "tcp", Protocol: "TCP", Number: 5432}}},
				{ClusterID: "c2", Addresses: []netip.Addr{netip.MustParseAddr("10.2.0.1")}, Ports: []Port{{Name: "tcp", Protocol: "TCP", Number: 5432}, {Name: "udp", Protocol: "UDP", Number: 5353}}},
			},
		},
		{Namespace: "shop", Name: "empty", Headless: true},
		{Namespace: "shop", Name: "old", Released: true, IPs: []netip.Addr{netip.MustParseAddr("10.96.5.5")}, Ports: []Port{{Name: "http", Protocol: "TCP", Number: 80}}},
	}, Options{Zones: []string{"mesh.internal"}, Serial: 7})
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// query is a request for name and type, with EDNS0 when ednsSize is not 0.
func query(name string, qtype uint16, ednsSize uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if ednsSize != 0 {
		m.SetEdns0(ednsSize, false)
	}
	return m
}

// wire packs m and unpacks it again, failing t when either fails: what a client would read.
func wire(t testing.TB, m *dns.Msg) *dns.Msg {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatalf("failed to pack response %v: %v", m, err)
	}
	out := new(dns.Msg)
	if err := out.Unpack(b); err != nil {
		t.Fatalf("failed to unpack response: %v", err)
	}
	return out
}

// rrStrings renders records without their owner-independent tabs, for comparison.
func rrStrings(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		out = append(out, rr.String())
	}
	return out
}
