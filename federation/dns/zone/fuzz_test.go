package zone

import (
	"testing"

	"github.com/miekg/dns"
)

// FuzzAnswerWire feeds the table any message a client could send: whatever unpacks gets a
// response that packs, unpacks, answers the request's ID and fits the transport's limit.
func FuzzAnswerWire(f *testing.F) {
	for _, m := range []*dns.Msg{
		query("web.shop.mesh.internal.", dns.TypeA, 0),
		query("_http._tcp.big.shop.svc.clusterset.local.", dns.TypeSRV, 1232),
		query("big.shop.svc.clusterset.local.", dns.TypeANY, 0),
		query("nope.mesh.internal.", dns.TypeAAAA, 4096),
		query("db.shop.svc.clusterset.local.", dns.TypeSRV, 0),
		query("db-0.c1.db.shop.svc.clusterset.local.", dns.TypeAAAA, 0),
		query("example.com.", dns.TypeA, 0),
	} {
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
	}
	tbl := fixture(f)
	f.Fuzz(func(t *testing.T, raw []byte, tcp bool) {
		req := new(dns.Msg)
		if req.Unpack(raw) != nil {
			return
		}
		checkResponse(t, tbl, req, tcp)
	})
}

// FuzzAnswerQuestion reaches the answering logic more often than random bytes do: any question
// name, type and class, with or without EDNS0 of any size and version, over UDP or TCP.
func FuzzAnswerQuestion(f *testing.F) {
	f.Add("web.shop.mesh.internal.", uint16(dns.TypeA), uint16(dns.ClassINET), true, uint16(512), uint8(0), false, false)
	f.Add("big.shop.svc.clusterset.local.", uint16(dns.TypeANY), uint16(dns.ClassANY), false, uint16(0), uint8(0), false, false)
	f.Add("_http._tcp.big.shop.svc.clusterset.local.", uint16(dns.TypeSRV), uint16(dns.ClassINET), true, uint16(1400), uint8(0), true, false)
	f.Add("_tcp._tcp.db.shop.svc.clusterset.local.", uint16(dns.TypeSRV), uint16(dns.ClassINET), false, uint16(0), uint8(0), false, false)
	f.Add("10-2-0-1.c2.db.shop.svc.clusterset.local.", uint16(dns.TypeANY), uint16(dns.ClassINET), true, uint16(512), uint8(0), false, false)
	f.Add("x.web.shop.svc.cluster.local.", uint16(dns.TypeAAAA), uint16(dns.ClassINET), true, uint16(65535), uint8(3), false, true)
	tbl := fixture(f)
	f.Fuzz(func(t *testing.T, name string, qtype, qclass uint16, edns bool, size uint16, version uint8, do, tcp bool) {
		req := new(dns.Msg)
		req.SetQuestion(name, qtype)
		req.Question[0].Qclass = qclass
		if edns {
			req.SetEdns0(size, do)
			req.IsEdns0().SetVersion(version)
		}
		// What the server reads is what a client's packed message unpacks to.
		b, err := req.Pack()
		if err != nil {
			return
		}
		if err := req.Unpack(b); err != nil {
			return
		}
		checkResponse(t, tbl, req, tcp)
	})
}

func checkResponse(t *testing.T, tbl *Table, req *dns.Msg, tcp bool) {
	t.Helper()
	resp := tbl.Answer(req, tcp)
	if req.Response {
		if resp != nil {
			t.Fatalf("answered a response")
		}
		return
	}
	b, err := resp.Pack()
	if err != nil {
		t.Fatalf("response does not pack: %v\nrequest: %v\nresponse: %v", err, req, resp)
	}
	limit := dns.MaxMsgSize
	if !tcp {
		limit = UDPSize
		if req.IsEdns0() == nil {
			limit = dns.MinMsgSize
		}
	}
	if len(b) > limit {
		t.Fatalf("response of %d bytes over a limit of %d", len(b), limit)
	}
	got := new(dns.Msg)
	if err := got.Unpack(b); err != nil {
		t.Fatalf("response does not unpack: %v", err)
	}
	if got.Id != req.Id || !got.Response || len(got.Question) > 1 {
		t.Fatalf("header: id %d (request %d) qr %v questions %d", got.Id, req.Id, got.Response, len(got.Question))
	}
	if got.Rcode != dns.RcodeSuccess && len(got.Answer) != 0 {
		t.Fatalf("rcode %s with answers", dns.RcodeToString[got.Rcode])
	}
}
