package zone

import (
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// UDPSize is the EDNS0 buffer size the server advertises and the largest UDP response it
// sends: 1232 bytes, the size that avoids IP fragmentation on common paths (DNS flag day 2020).
const UDPSize = 1232

// Answer returns the response to req, or nil when req is itself a response (never answered,
// so that two servers cannot bounce messages between them). tcp says whether req came over
// TCP: the response then fits 64 KiB; over UDP it fits the client's EDNS0 buffer size (at most
// UDPSize) or 512 bytes without EDNS0, and is truncated with TC set when the records do not fit,
// so that the client retries over TCP. The additional section is dropped before any answer is.
//
// Rcodes: NOERROR with records; NOERROR with the zone's SOA in the authority section when the
// name exists without records of the type (NODATA); NXDOMAIN with the SOA when the name does
// not exist in the zone; REFUSED outside every zone, for a class other than IN or ANY and for
// zone transfers; NOTIMP for opcodes other than QUERY; FORMERR without exactly one question,
// with more than one OPT record or an OPT question; BADVERS for an EDNS version above 0.
func (t *Table) Answer(req *dns.Msg, tcp bool) *dns.Msg {
	if req.Response {
		return nil
	}
	resp := new(dns.Msg)
	resp.SetReply(req)
	resp.Compress = true
	opt, optCount := findOPT(req)
	size := dns.MinMsgSize
	switch {
	case optCount > 1:
		resp.Rcode = dns.RcodeFormatError
		return resp
	case opt != nil && opt.Version() != 0:
		resp.Rcode = dns.RcodeBadVers
		resp.SetEdns0(UDPSize, opt.Do())
		return resp
	case opt != nil:
		size = min(max(int(opt.UDPSize()), dns.MinMsgSize), UDPSize)
	}
	if tcp {
		size = dns.MaxMsgSize
	}
	t.fill(resp, req)
	if opt != nil {
		resp.SetEdns0(UDPSize, opt.Do())
	}
	fit(resp, size)
	return resp
}

// findOPT returns the last OPT record of req's additional section and how many there are.
func findOPT(req *dns.Msg) (*dns.OPT, int) {
	var opt *dns.OPT
	n := 0
	for _, rr := range req.Extra {
		if o, ok := rr.(*dns.OPT); ok {
			opt = o
			n++
		}
	}
	return opt, n
}

// fill sets the rcode and the answer, authority and additional sections of resp.
func (t *Table) fill(resp, req *dns.Msg) {
	if req.Opcode != dns.OpcodeQuery {
		resp.Rcode = dns.RcodeNotImplemented
		return
	}
	if len(req.Question) != 1 {
		resp.Rcode = dns.RcodeFormatError
		return
	}
	q := req.Question[0]
	switch {
	case q.Qtype == dns.TypeOPT:
		resp.Rcode = dns.RcodeFormatError
		return
	case q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY,
		q.Qtype == dns.TypeAXFR, q.Qtype == dns.TypeIXFR:
		resp.Rcode = dns.RcodeRefused
		return
	}
	name := dns.Fqdn(strings.ToLower(q.Name))
	zone := t.zoneOf(name)
	if zone == nil {
		resp.Rcode = dns.RcodeRefused
		return
	}
	resp.Authoritative = true
	n, port, ok := t.resolve(name)
	if !ok {
		resp.Rcode = dns.RcodeNameError
		resp.Ns = slices.Clip(zone.soa)
		return
	}
	answer, extra := t.records(name, n, port, q.Qtype)
	if len(answer) == 0 {
		resp.Ns = slices.Clip(zone.soa)
		return
	}
	// Some of the table's slices (SOA, NS, TXT) are shared by every response: clip them so that
	// an append (of the OPT record, by SetEdns0) copies instead of writing into them.
	resp.Answer = slices.Clip(answer)
	resp.Extra = slices.Clip(extra)
}

// fit makes resp fit size bytes: first as it is, then without its additional records (which
// RFC 2181 §9 lets a server leave out without setting TC), then truncated with TC set.
func fit(resp *dns.Msg, size int) {
	answer, ns, extra := resp.Answer, resp.Ns, resp.Extra
	resp.Truncate(size)
	if !resp.Truncated {
		return
	}
	var opt []dns.RR
	for _, rr := range extra {
		if rr.Header().Rrtype == dns.TypeOPT {
			opt = append(opt, rr)
		}
	}
	if len(opt) == len(extra) {
		return
	}
	resp.Answer, resp.Ns, resp.Extra, resp.Truncated = answer, ns, opt, false
	resp.Truncate(size)
}
