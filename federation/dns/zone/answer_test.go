package zone

import (
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestAnswer(t *testing.T) {
	tbl := fixture(t)
	soa := func(zone string) []string {
		return []string{zone + "\t5\tIN\tSOA\tns.dns." + zone + " hostmaster." + zone + " 7 7200 1800 86400 5"}
	}
	tests := []struct {
		name    string
		qname   string
		qtype   uint16
		rcode   int
		answer  []string
		ns      []string
		extra   []string
		notAuth bool
	}{
		{name: "A of a hostname", qname: "web.shop.mesh.internal.", qtype: dns.TypeA, answer: []string{"web.shop.mesh.internal.\t5\tIN\tA\t10.96.0.10"}},
		{name: "AAAA of a hostname", qname: "web.shop.mesh.internal.", qtype: dns.TypeAAAA, answer: []string{"web.shop.mesh.internal.\t5\tIN\tAAAA\t2001:db8::a"}},
		{name: "names are case-insensitive", qname: "WEB.Shop.MESH.internal.", qtype: dns.TypeA, answer: []string{"web.shop.mesh.internal.\t5\tIN\tA\t10.96.0.10"}},
		{name: "hostname in another segment domain", qname: "db.data.east.example.", qtype: dns.TypeA, answer: []string{"db.data.east.example.\t5\tIN\tA\t10.96.0.12"}},
		{name: "clusterset A", qname: "web.shop.svc.clusterset.local.", qtype: dns.TypeA, answer: []string{"web.shop.svc.clusterset.local.\t5\tIN\tA\t10.96.0.10"}},
		{name: "clusterset AAAA", qname: "web.shop.svc.clusterset.local.", qtype: dns.TypeAAAA, answer: []string{"web.shop.svc.clusterset.local.\t5\tIN\tAAAA\t2001:db8::a"}},
		{
			name: "SRV of a named port", qname: "_http._tcp.web.shop.svc.clusterset.local.", qtype: dns.TypeSRV,
			answer: []string{"_http._tcp.web.shop.svc.clusterset.local.\t5\tIN\tSRV\t0 100 80 web.shop.svc.clusterset.local."},
			extra:  []string{"web.shop.svc.clusterset.local.\t5\tIN\tA\t10.96.0.10", "web.shop.svc.clusterset.local.\t5\tIN\tAAAA\t2001:db8::a"},
		},
		{
			name: "SRV of a UDP port", qname: "_dns._udp.web.shop.svc.clusterset.local.", qtype: dns.TypeSRV,
			answer: []string{"_dns._udp.web.shop.svc.clusterset.local.\t5\tIN\tSRV\t0 100 53 web.shop.svc.clusterset.local."},
			extra:  []string{"web.shop.svc.clusterset.local.\t5\tIN\tA\t10.96.0.10", "web.shop.svc.clusterset.local.\t5\tIN\tAAAA\t2001:db8::a"},
		},
		{
			name: "SRV of the service name: one per port number", qname: "web.shop.svc.clusterset.local.", qtype: dns.TypeSRV,
			answer: []string{
				"web.shop.svc.clusterset.local.\t5\tIN\tSRV\t0 33 80 web.shop.svc.clusterset.local.",
				"web.shop.svc.clusterset.local.\t5\tIN\tSRV\t0 33 53 web.shop.svc.clusterset.local.",
				"web.shop.svc.clusterset.local.\t5\tIN\tSRV\t0 33 8080 web.shop.svc.clusterset.local.",
			},
			extra: []string{"web.shop.svc.clusterset.local.\t5\tIN\tA\t10.96.0.10", "web.shop.svc.clusterset.local.\t5\tIN\tAAAA\t2001:db8::a"},
		},
		{
			name: "SRV under the segment domain", qname: "_grpc._tcp.api.shop.mesh.internal.", qtype: dns.TypeSRV,
			answer: []string{"_grpc._tcp.api.shop.mesh.internal.\t5\tIN\tSRV\t0 100 9090 api.shop.mesh.internal."},
			extra:  []string{"api.shop.mesh.internal.\t5\tIN\tA\t10.96.0.11"},
		},
		{name: "unnamed port has no SRV name", qname: "_tcp.db.data.east.example.", qtype: dns.TypeSRV, rcode: dns.RcodeNameError, ns: soa("east.example.")},
		{name: "takeover name", qname: "web.shop.svc.cluster.local.", qtype: dns.TypeA, answer: []string{"web.shop.svc.cluster.local.\t5\tIN\tA\t10.96.0.10"}},
		{
			name: "takeover SRV", qname: "_http._tcp.web.shop.svc.cluster.local.", qtype: dns.TypeSRV,
			answer: []string{"_http._tcp.web.shop.svc.cluster.local.\t5\tIN\tSRV\t0 100 80 web.shop.svc.cluster.local."},
			extra:  []string{"web.shop.svc.cluster.local.\t5\tIN\tA\t10.96.0.10", "web.shop.svc.cluster.local.\t5\tIN\tAAAA\t2001:db8::a"},
		},
		{name: "below a takeover name", qname: "x.web.shop.svc.cluster.local.", qtype: dns.TypeA, rcode: dns.RcodeNameError, ns: soa("web.shop.svc.cluster.local.")},
		{name: "no takeover asked: not our zone", qname: "api.shop.svc.cluster.local.", qtype: dns.TypeA, rcode: dns.RcodeRefused, notAuth: true},
		{name: "dns-version", qname: "dns-version.clusterset.local.", qtype: dns.TypeTXT, answer: []string{"dns-version.clusterset.local.\t5\tIN\tTXT\t\"1.0.0\""}},
		{name: "NODATA: type the name lacks", qname: "api.shop.mesh.internal.", qtype: dns.TypeAAAA, ns: soa("mesh.internal.")},
		{name: "NODATA: MX", qname: "web.shop.mesh.internal.", qtype: dns.TypeMX, ns: soa("mesh.internal.")},
		{name: "NODATA: empty non-terminal", qname: "shop.mesh.internal.", qtype: dns.TypeA, ns: soa("mesh.internal.")},
		{name: "NODATA: empty non-terminal svc", qname: "svc.clusterset.local.", qtype: dns.TypeA, ns: soa("clusterset.local.")},
		{name: "NODATA: A of an SRV name", qname: "_http._tcp.web.shop.mesh.internal.", qtype: dns.TypeA, ns: soa("mesh.internal.")},
		{name: "NXDOMAIN", qname: "nope.shop.mesh.internal.", qtype: dns.TypeA, rcode: dns.RcodeNameError, ns: soa("mesh.internal.")},
		{name: "NXDOMAIN below a name", qname: "x.web.shop.mesh.internal.", qtype: dns.TypeA, rcode: dns.RcodeNameError, ns: soa("mesh.internal.")},
		{name: "NXDOMAIN clusterset", qname: "nope.shop.svc.clusterset.local.", qtype: dns.TypeA, rcode: dns.RcodeNameError, ns: soa("clusterset.local.")},
		{name: "headless import has no names", qname: "headless.shop.svc.clusterset.local.", qtype: dns.TypeA, rcode: dns.RcodeNameError, ns: soa("clusterset.local.")},
		{name: "headless hostname too", qname: "headless.shop.mesh.internal.", qtype: dns.TypeA, rcode: dns.RcodeNameError, ns: soa("mesh.internal.")},
		{
			name: "headless A: every ready endpoint", qname: "db.shop.svc.clusterset.local.", qtype: dns.TypeA,
			answer: []string{"db.shop.svc.clusterset.local.\t5\tIN\tA\t10.1.0.1", "db.shop.svc.clusterset.local.\t5\tIN\tA\t10.2.0.1"},
		},
		{name: "headless AAAA", qname: "db.shop.svc.clusterset.local.", qtype: dns.TypeAAAA, answer: []string{"db.shop.svc.clusterset.local.\t5\tIN\tAAAA\tfd00:1::1"}},
		{
			name: "headless hostname", qname: "db.shop.mesh.internal.", qtype: dns.TypeA,
			answer: []string{"db.shop.mesh.internal.\t5\tIN\tA\t10.1.0.1", "db.shop.mesh.internal.\t5\tIN\tA\t10.2.0.1"},
		},
		{
			name: "headless SRV of the service name: one per endpoint and port number", qname: "db.shop.svc.clusterset.local.", qtype: dns.TypeSRV,
			answer: []string{
				"db.shop.svc.clusterset.local.\t5\tIN\tSRV\t0 33 5432 10-2-0-1.c2.db.shop.svc.clusterset.local.",
				"db.shop.svc.clusterset.local.\t5\tIN\tSRV\t0 33 5353 10-2-0-1.c2.db.shop.svc.clusterset.local.",
				"db.shop.svc.clusterset.local.\t5\tIN\tSRV\t0 33 5432 db-0.c1.db.shop.svc.clusterset.local.",
			},
			extra: []string{"10-2-0-1.c2.db.shop.svc.clusterset.local.\t5\tIN\tA\t10.2.0.1", "db-0.c1.db.shop.svc.clusterset.local.\t5\tIN\tA\t10.1.0.1", "db-0.c1.db.shop.svc.clusterset.local.\t5\tIN\tAAAA\tfd00:1::1"},
		},
		{
			name: "headless SRV of a named port", qname: "_tcp._tcp.db.shop.svc.clusterset.local.", qtype: dns.TypeSRV,
			answer: []string{
				"_tcp._tcp.db.shop.svc.clusterset.local.\t5\tIN\tSRV\t0 50 5432 10-2-0-1.c2.db.shop.svc.clusterset.local.",
				"_tcp._tcp.db.shop.svc.clusterset.local.\t5\tIN\tSRV\t0 50 5432 db-0.c1.db.shop.svc.clusterset.local.",
			},
			extra: []string{"10-2-0-1.c2.db.shop.svc.clusterset.local.\t5\tIN\tA\t10.2.0.1", "db-0.c1.db.shop.svc.clusterset.local.\t5\tIN\tA\t10.1.0.1", "db-0.c1.db.shop.svc.clusterset.local.\t5\tIN\tAAAA\tfd00:1::1"},
		},
		{
			name: "headless SRV of a port one endpoint serves", qname: "_udp._udp.db.shop.svc.clusterset.local.", qtype: dns.TypeSRV,
			answer: []string{"_udp._udp.db.shop.svc.clusterset.local.\t5\tIN\tSRV\t0 100 5353 10-2-0-1.c2.db.shop.svc.clusterset.local."},
			extra:  []string{"10-2-0-1.c2.db.shop.svc.clusterset.local.\t5\tIN\tA\t10.2.0.1"},
		},
		{name: "headless endpoint by hostname", qname: "db-0.c1.db.shop.svc.clusterset.local.", qtype: dns.TypeA, answer: []string{"db-0.c1.db.shop.svc.clusterset.local.\t5\tIN\tA\t10.1.0.1"}},
		{name: "headless endpoint AAAA", qname: "DB-0.C1.db.shop.svc.clusterset.local.", qtype: dns.TypeAAAA, answer: []string{"db-0.c1.db.shop.svc.clusterset.local.\t5\tIN\tAAAA\tfd00:1::1"}},
		{name: "headless endpoint by address", qname: "10-2-0-1.c2.db.shop.svc.clusterset.local.", qtype: dns.TypeA, answer: []string{"10-2-0-1.c2.db.shop.svc.clusterset.local.\t5\tIN\tA\t10.2.0.1"}},
		{name: "headless endpoint lacks the type: NODATA", qname: "10-2-0-1.c2.db.shop.svc.clusterset.local.", qtype: dns.TypeAAAA, ns: soa("clusterset.local.")},
		{name: "headless endpoint has no SRV: NODATA", qname: "db-0.c1.db.shop.svc.clusterset.local.", qtype: dns.TypeSRV, ns: soa("clusterset.local.")},
		{name: "headless cluster: empty non-terminal", qname: "c1.db.shop.svc.clusterset.local.", qtype: dns.TypeA, ns: soa("clusterset.local.")},
		{name: "headless endpoint in another cluster: NXDOMAIN", qname: "db-0.c2.db.shop.svc.clusterset.local.", qtype: dns.TypeA, rcode: dns.RcodeNameError, ns: soa("clusterset.local.")},
		{name: "headless without endpoints: NXDOMAIN", qname: "empty.shop.svc.clusterset.local.", qtype: dns.TypeA, rcode: dns.RcodeNameError, ns: soa("clusterset.local.")},
		{name: "headless has no takeover name", qname: "db.shop.svc.cluster.local.", qtype: dns.TypeA, rcode: dns.RcodeRefused, notAuth: true},
		{name: "REFUSED outside the zones", qname: "example.com.", qtype: dns.TypeA, rcode: dns.RcodeRefused, notAuth: true},
		{name: "REFUSED the root", qname: ".", qtype: dns.TypeNS, rcode: dns.RcodeRefused, notAuth: true},
		{name: "REFUSED a parent of a zone", qname: "internal.", qtype: dns.TypeA, rcode: dns.RcodeRefused, notAuth: true},
		{name: "REFUSED zone transfer", qname: "mesh.internal.", qtype: dns.TypeAXFR, rcode: dns.RcodeRefused, notAuth: true},
		{name: "SOA at the apex", qname: "mesh.internal.", qtype: dns.TypeSOA, answer: soa("mesh.internal.")},
		{name: "NS at the apex", qname: "clusterset.local.", qtype: dns.TypeNS, answer: []string{"clusterset.local.\t5\tIN\tNS\tns.dns.clusterset.local."}},
		{name: "A at the apex: NODATA", qname: "mesh.internal.", qtype: dns.TypeA, ns: soa("mesh.internal.")},
		{
			name: "ANY", qname: "web.shop.svc.clusterset.local.", qtype: dns.TypeANY,
			answer: []string{
				"web.shop.svc.clusterset.local.\t5\tIN\tA\t10.96.0.10", "web.shop.svc.clusterset.local.\t5\tIN\tAAAA\t2001:db8::a",
				"web.shop.svc.clusterset.local.\t5\tIN\tSRV\t0 33 80 web.shop.svc.clusterset.local.",
				"web.shop.svc.clusterset.local.\t5\tIN\tSRV\t0 33 53 web.shop.svc.clusterset.local.",
				"web.shop.svc.clusterset.local.\t5\tIN\tSRV\t0 33 8080 web.shop.svc.clusterset.local.",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := query(tt.qname, tt.qtype, 0)
			resp := wire(t, tbl.Answer(req, false))
			if resp.Id != req.Id || !resp.Response || resp.Rcode != tt.rcode || resp.Authoritative == tt.notAuth || resp.RecursionAvailable {
				t.Errorf("header: id %d (want %d) qr %v rcode %s (want %s) aa %v ra %v", resp.Id, req.Id, resp.Response,
					dns.RcodeToString[resp.Rcode], dns.RcodeToString[tt.rcode], resp.Authoritative, resp.RecursionAvailable)
			}
			if len(resp.Question) != 1 || resp.Question[0] != req.Question[0] {
				t.Errorf("question %v, want %v echoed", resp.Question, req.Question)
			}
			for _, s := range []struct {
				section   string
				got, want []string
			}{{"answer", rrStrings(resp.Answer), tt.answer}, {"authority", rrStrings(resp.Ns), tt.ns}, {"additional", rrStrings(resp.Extra), tt.extra}} {
				if !slices.Equal(s.got, s.want) {
					t.Errorf("%s:\n got %q\nwant %q", s.section, s.got, s.want)
				}
			}
		})
	}
}

func TestAnswerMalformed(t *testing.T) {
	tbl := fixture(t)
	withOPT := func(m *dns.Msg, version uint8, n int) *dns.Msg {
		for range n {
			o := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
			o.SetUDPSize(1232)
			o.SetVersion(version)
			m.Extra = append(m.Extra, o)
		}
		return m
	}
	tests := []struct {
		name  string
		req   *dns.Msg
		rcode int
	}{
		{name: "notify", req: func() *dns.Msg { m := query("mesh.internal.", dns.TypeSOA, 0); m.Opcode = dns.OpcodeNotify; return m }(), rcode: dns.RcodeNotImplemented},
		{name: "update", req: func() *dns.Msg { m := query("mesh.internal.", dns.TypeSOA, 0); m.Opcode = dns.OpcodeUpdate; return m }(), rcode: dns.RcodeNotImplemented},
		{name: "no question", req: &dns.Msg{MsgHdr: dns.MsgHdr{Id: 3}}, rcode: dns.RcodeFormatError},
		{name: "two questions", req: func() *dns.Msg {
			m := query("web.shop.mesh.internal.", dns.TypeA, 0)
			m.Question = append(m.Question, m.Question[0])
			return m
		}(), rcode: dns.RcodeFormatError},
		{name: "OPT question", req: query("web.shop.mesh.internal.", dns.TypeOPT, 0), rcode: dns.RcodeFormatError},
		{name: "class CHAOS", req: func() *dns.Msg {
			m := query("version.bind.", dns.TypeTXT, 0)
			m.Question[0].Qclass = dns.ClassCHAOS
			return m
		}(), rcode: dns.RcodeRefused},
		{name: "EDNS version 1", req: withOPT(query("web.shop.mesh.internal.", dns.TypeA, 0), 1, 1), rcode: dns.RcodeBadVers},
		{name: "two OPT records", req: withOPT(query("web.shop.mesh.internal.", dns.TypeA, 0), 0, 2), rcode: dns.RcodeFormatError},
		{name: "class ANY answered", req: func() *dns.Msg {
			m := query("web.shop.mesh.internal.", dns.TypeA, 0)
			m.Question[0].Qclass = dns.ClassANY
			return m
		}(), rcode: dns.RcodeSuccess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := wire(t, tbl.Answer(tt.req, false))
			if resp.Rcode != tt.rcode || resp.Id != tt.req.Id || !resp.Response {
				t.Errorf("rcode %s id %d qr %v, want %s id %d qr true", dns.RcodeToString[resp.Rcode], resp.Id, resp.Response, dns.RcodeToString[tt.rcode], tt.req.Id)
			}
			if tt.rcode != dns.RcodeSuccess && len(resp.Answer) != 0 {
				t.Errorf("answer %v with rcode %s", resp.Answer, dns.RcodeToString[resp.Rcode])
			}
		})
	}
	t.Run("a response is not answered", func(t *testing.T) {
		m := query("web.shop.mesh.internal.", dns.TypeA, 0)
		m.Response = true
		if resp := tbl.Answer(m, false); resp != nil {
			t.Errorf("answered a response: %v", resp)
		}
	})
}

func TestAnswerEDNS(t *testing.T) {
	tbl := fixture(t)
	for _, do := range []bool{false, true} {
		req := query("web.shop.mesh.internal.", dns.TypeA, 4096)
		req.IsEdns0().SetDo(do)
		resp := wire(t, tbl.Answer(req, false))
		opt := resp.IsEdns0()
		if opt == nil {
			t.Fatalf("do=%v: no OPT record in the response", do)
		}
		if opt.UDPSize() != UDPSize || opt.Version() != 0 || opt.Do() != do {
			t.Errorf("do=%v: OPT size %d version %d do %v, want %d 0 %v", do, opt.UDPSize(), opt.Version(), opt.Do(), UDPSize, do)
		}
	}
	if resp := wire(t, tbl.Answer(query("web.shop.mesh.internal.", dns.TypeA, 0), false)); resp.IsEdns0() != nil {
		t.Errorf("OPT record in the response to a query without EDNS0")
	}
	if resp := wire(t, tbl.Answer(query("nope.mesh.internal.", dns.TypeA, 1232), false)); resp.IsEdns0() == nil || resp.Rcode != dns.RcodeNameError {
		t.Errorf("NXDOMAIN with EDNS0: rcode %s, OPT %v", dns.RcodeToString[resp.Rcode], resp.IsEdns0())
	}
}

// TestAnswerTruncation: shop/big has 40 A and 40 AAAA records, 1,760 bytes of them.
func TestAnswerTruncation(t *testing.T) {
	tbl := fixture(t)
	tests := []struct {
		name      string
		qtype     uint16
		edns      uint16
		tcp       bool
		limit     int
		truncated bool
		answers   int // exact count, or -1 for "fewer than all"
		extra     int
	}{
		{name: "UDP without EDNS0: 512 bytes", qtype: dns.TypeAAAA, limit: 512, truncated: true, answers: -1},
		{name: "UDP with a 4096 buffer: capped at 1232", qtype: dns.TypeAAAA, edns: 4096, limit: UDPSize, answers: 40},
		{name: "UDP with a 1232 buffer: ANY does not fit", qtype: dns.TypeANY, edns: 1232, limit: UDPSize, truncated: true, answers: -1},
		{name: "UDP with a buffer below 512 means 512", qtype: dns.TypeAAAA, edns: 100, limit: 512, truncated: true, answers: -1},
		{name: "TCP: everything", qtype: dns.TypeANY, tcp: true, limit: dns.MaxMsgSize, answers: 81},
		{name: "SRV: extras dropped first, no TC", qtype: dns.TypeSRV, limit: 512, answers: 1, extra: 0},
		{name: "SRV over TCP keeps extras", qtype: dns.TypeSRV, tcp: true, limit: dns.MaxMsgSize, answers: 1, extra: 80},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "big.shop.svc.clusterset.local."
			if tt.qtype == dns.TypeSRV {
				name = "_http._tcp." + name
			}
			resp := tbl.Answer(query(name, tt.qtype, tt.edns), tt.tcp)
			b, err := resp.Pack()
			if err != nil {
				t.Fatal(err)
			}
			if len(b) > tt.limit {
				t.Errorf("response is %d bytes, limit %d", len(b), tt.limit)
			}
			got := wire(t, resp)
			if got.Truncated != tt.truncated {
				t.Errorf("TC %v, want %v", got.Truncated, tt.truncated)
			}
			if (tt.answers >= 0 && len(got.Answer) != tt.answers) || (tt.answers < 0 && (len(got.Answer) == 0 || len(got.Answer) >= 81)) {
				t.Errorf("%d answers, want %d (-1: some but not all)", len(got.Answer), tt.answers)
			}
			if n := len(rrStrings(got.Extra)); n != tt.extra {
				t.Errorf("%d additional records, want %d", n, tt.extra)
			}
		})
	}
}

// TestAnswerDoesNotShareSlices: appending to a response (as the OPT record is appended) must not
// reach the table, which every response shares.
func TestAnswerDoesNotShareSlices(t *testing.T) {
	tbl := fixture(t)
	req := query("_http._tcp.web.shop.mesh.internal.", dns.TypeSRV, 1232)
	for range 3 {
		resp := tbl.Answer(req, false)
		resp.Answer = append(resp.Answer, &dns.A{Hdr: dns.RR_Header{Name: "x.", Rrtype: dns.TypeA, Class: dns.ClassINET}})
		resp.Ns = append(resp.Ns, resp.Answer[0])
	}
	resp := wire(t, tbl.Answer(req, false))
	if len(resp.Answer) != 1 || len(rrStrings(resp.Extra)) != 2 || strings.Contains(resp.String(), "x.\t") {
		t.Errorf("table changed by earlier responses:\n%v", resp)
	}
}
