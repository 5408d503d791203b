package server

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/meshfed/meshfed/federation/dns/zone"
	"github.com/meshfed/meshfed/internal/dualport"
)

// running is a server on loopback, UDP and TCP on the same port.
type running struct {
	*Server
	addr string
	reg  *prometheus.Registry
	stop func() error
}

func start(t *testing.T) *running {
	t.Helper()
	reg := prometheus.NewRegistry()
	s, err := New(Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	l, pc, err := dualport.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, pc, l) }()
	stop := sync.OnceValue(func() error { cancel(); return <-done })
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &running{Server: s, addr: pc.LocalAddr().String(), reg: reg, stop: stop}
}

func table(t *testing.T, ips ...string) *zone.Table {
	t.Helper()
	var addrs []netip.Addr
	for _, ip := range ips {
		addrs = append(addrs, netip.MustParseAddr(ip))
	}
	tbl, err := zone.Build([]zone.Service{{
		Namespace: "shop", Name: "web", Hostname: "web.shop.mesh.internal", Takeover: true, IPs: addrs,
		Ports: []zone.Port{{Name: "http", Protocol: "TCP", Number: 80}},
	}}, zone.Options{Serial: 1})
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// exchange sends one query over network (udp or tcp), with EDNS0 of ednsSize when not 0.
func exchange(t *testing.T, addr, network, name string, qtype uint16, ednsSize uint16) *dns.Msg {
	t.Helper()
	req := new(dns.Msg)
	req.SetQuestion(name, qtype)
	if ednsSize != 0 {
		req.SetEdns0(ednsSize, false)
	}
	c := &dns.Client{Net: network, Timeout: 5 * time.Second, UDPSize: 65535}
	resp, _, err := c.ExchangeContext(t.Context(), req, addr)
	if err != nil {
		t.Fatalf("%s %s %s: %v", network, name, dns.TypeToString[qtype], err)
	}
	if resp.Id != req.Id {
		t.Fatalf("response id %d, request %d", resp.Id, req.Id)
	}
	return resp
}

func answers(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		switch rr := rr.(type) {
		case *dns.A:
			out = append(out, rr.A.String())
		case *dns.AAAA:
			out = append(out, rr.AAAA.String())
		case *dns.SRV:
			out = append(out, fmt.Sprintf("%d %s", rr.Port, rr.Target))
		case *dns.TXT:
			out = append(out, rr.Txt...)
		default:
			out = append(out, rr.String())
		}
	}
	return out
}

func TestServerNotReady(t *testing.T) {
	s := start(t)
	for _, network := range []string{"udp", "tcp"} {
		if resp := exchange(t, s.addr, network, "web.shop.mesh.internal.", dns.TypeA, 0); resp.Rcode != dns.RcodeServerFailure {
			t.Errorf("%s before the first table: %s, want SERVFAIL", network, dns.RcodeToString[resp.Rcode])
		}
	}
	if s.Ready() {
		t.Error("ready before the first table")
	}
}

func TestServerAnswers(t *testing.T) {
	s := start(t)
	s.Publish(table(t, "10.96.0.10", "2001:db8::a"))
	if !s.Ready() {
		t.Fatal("not ready after Publish")
	}
	tests := []struct {
		qname  string
		qtype  uint16
		rcode  int
		answer []string
		soa    string
	}{
		{qname: "web.shop.mesh.internal.", qtype: dns.TypeA, answer: []string{"10.96.0.10"}},
		{qname: "web.shop.mesh.internal.", qtype: dns.TypeAAAA, answer: []string{"2001:db8::a"}},
		{qname: "web.shop.svc.clusterset.local.", qtype: dns.TypeA, answer: []string{"10.96.0.10"}},
		{qname: "web.shop.svc.clusterset.local.", qtype: dns.TypeSRV, answer: []string{"80 web.shop.svc.clusterset.local."}},
		{qname: "_http._tcp.web.shop.svc.clusterset.local.", qtype: dns.TypeSRV, answer: []string{"80 web.shop.svc.clusterset.local."}},
		{qname: "web.shop.svc.cluster.local.", qtype: dns.TypeA, answer: []string{"10.96.0.10"}},
		{qname: "dns-version.clusterset.local.", qtype: dns.TypeTXT, answer: []string{"1.0.0"}},
		{qname: "web.shop.mesh.internal.", qtype: dns.TypeMX, soa: "mesh.internal."},
		{qname: "nope.shop.mesh.internal.", qtype: dns.TypeA, rcode: dns.RcodeNameError, soa: "mesh.internal."},
		{qname: "nope.shop.svc.clusterset.local.", qtype: dns.TypeA, rcode: dns.RcodeNameError, soa: "clusterset.local."},
		{qname: "other.shop.svc.cluster.local.", qtype: dns.TypeA, rcode: dns.RcodeRefused},
		{qname: "example.com.", qtype: dns.TypeA, rcode: dns.RcodeRefused},
	}
	for _, network := range []string{"udp", "tcp"} {
		for _, edns := range []uint16{0, 1232} {
			for _, tt := range tests {
				t.Run(fmt.Sprintf("%s/edns%d/%s/%s", network, edns, tt.qname, dns.TypeToString[tt.qtype]), func(t *testing.T) {
					resp := exchange(t, s.addr, network, tt.qname, tt.qtype, edns)
					if resp.Rcode != tt.rcode || !slices.Equal(answers(resp), tt.answer) {
						t.Errorf("%s %q, want %s %q", dns.RcodeToString[resp.Rcode], answers(resp), dns.RcodeToString[tt.rcode], tt.answer)
					}
					if tt.soa != "" && (len(resp.Ns) != 1 || resp.Ns[0].Header().Name != tt.soa || resp.Ns[0].Header().Rrtype != dns.TypeSOA) {
						t.Errorf("authority %v, want the SOA of %s", resp.Ns, tt.soa)
					}
					if (edns != 0) != (resp.IsEdns0() != nil) {
						t.Errorf("OPT record %v in response to EDNS0 %d", resp.IsEdns0(), edns)
					}
				})
			}
		}
	}
	// Two NXDOMAIN names, each asked with and without EDNS0 over each transport. The server
	// counts a query once its answer is written, so the client may read the last answer a
	// moment before it is counted: wait for the counts, failing if they never arrive.
	counted := func() (nxdomain, refusedTCP float64) {
		return testutil.ToFloat64(s.metrics.queries.WithLabelValues("NXDOMAIN", "udp")) + testutil.ToFloat64(s.metrics.queries.WithLabelValues("NXDOMAIN", "tcp")),
			testutil.ToFloat64(s.metrics.queries.WithLabelValues("REFUSED", "tcp"))
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if nx, refused := counted(); nx >= 8 && refused >= 4 {
			break
		}
	}
	if nx, refused := counted(); nx != 8 || refused != 4 {
		t.Errorf("NXDOMAIN counted %v, want 8; REFUSED over TCP counted %v, want 4", nx, refused)
	}
}

// TestServerTruncation: 60 IPv4 addresses (960 bytes of A records) do not fit a 512-byte UDP
// response; the client sees TC and gets them all over TCP, or over UDP with a large EDNS0 buffer.
func TestServerTruncation(t *testing.T) {
	s := start(t)
	var ips []string
	for i := range 60 {
		ips = append(ips, fmt.Sprintf("10.96.1.%d", i+1))
	}
	s.Publish(table(t, ips...))
	name := "web.shop.svc.clusterset.local."
	if resp := exchange(t, s.addr, "udp", name, dns.TypeA, 0); !resp.Truncated || len(resp.Answer) >= 60 {
		t.Errorf("UDP without EDNS0: TC %v with %d answers, want TC and fewer than 60", resp.Truncated, len(resp.Answer))
	}
	if resp := exchange(t, s.addr, "tcp", name, dns.TypeA, 0); resp.Truncated || len(resp.Answer) != 60 {
		t.Errorf("TCP: TC %v with %d answers, want all 60", resp.Truncated, len(resp.Answer))
	}
	if resp := exchange(t, s.addr, "udp", name, dns.TypeA, 1232); resp.Truncated || len(resp.Answer) != 60 {
		t.Errorf("UDP with EDNS0 1232: TC %v with %d answers, want all 60", resp.Truncated, len(resp.Answer))
	}
}

// TestServerMalformed sends what no well-behaved client sends, as raw UDP packets.
func TestServerMalformed(t *testing.T) {
	s := start(t)
	s.Publish(table(t, "10.96.0.10"))
	conn, err := net.Dial("udp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	twoQuestions := func() []byte {
		m := new(dns.Msg)
		m.SetQuestion("web.shop.mesh.internal.", dns.TypeA)
		m.Question = append(m.Question, m.Question[0])
		b, _ := m.Pack()
		return b
	}()
	badVersion := func() []byte {
		m := new(dns.Msg)
		m.SetQuestion("web.shop.mesh.internal.", dns.TypeA)
		m.SetEdns0(1232, false)
		m.IsEdns0().SetVersion(1)
		b, _ := m.Pack()
		return b
	}()
	truncatedQuestion := func() []byte {
		m := new(dns.Msg)
		m.SetQuestion("web.shop.mesh.internal.", dns.TypeA)
		b, _ := m.Pack()
		return b[:20]
	}()
	tests := []struct {
		name  string
		pkt   []byte
		rcode int // -1: no response
	}{
		{name: "two questions", pkt: twoQuestions, rcode: dns.RcodeFormatError},
		{name: "EDNS version 1", pkt: badVersion, rcode: dns.RcodeBadVers},
		{name: "cut in the question", pkt: truncatedQuestion, rcode: dns.RcodeFormatError},
		{name: "shorter than a header", pkt: []byte{1, 2, 3}, rcode: -1},
	}
	buf := make([]byte, 2048)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := conn.Write(tt.pkt); err != nil {
				t.Fatal(err)
			}
			_ = conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			n, err := conn.Read(buf)
			if tt.rcode < 0 {
				if err == nil {
					t.Errorf("answered %d bytes to a packet without a header", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("no response: %v", err)
			}
			resp := new(dns.Msg)
			if err := resp.Unpack(buf[:n]); err != nil {
				t.Fatalf("response does not unpack: %v", err)
			}
			if resp.Rcode != tt.rcode || !resp.Response {
				t.Errorf("rcode %s qr %v, want %s", dns.RcodeToString[resp.Rcode], resp.Response, dns.RcodeToString[tt.rcode])
			}
		})
	}
}

// TestServerPublishUnderLoad swaps tables while clients query: every answer comes whole from
// one table or the other, and the new one is served right after Publish returns.
func TestServerPublishUnderLoad(t *testing.T) {
	s := start(t)
	old, next := table(t, "10.96.0.1", "10.96.0.2"), table(t, "10.96.0.3", "10.96.0.4")
	s.Publish(old)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var bad sync.Map
	for range 4 {
		wg.Go(func() {
			c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
			for ctx.Err() == nil {
				req := new(dns.Msg)
				req.SetQuestion("web.shop.mesh.internal.", dns.TypeA)
				resp, _, err := c.ExchangeContext(ctx, req, s.addr)
				if err != nil {
					continue
				}
				got := fmt.Sprint(answers(resp))
				if got != "[10.96.0.1 10.96.0.2]" && got != "[10.96.0.3 10.96.0.4]" {
					bad.Store(got, true)
				}
			}
		})
	}
	for i := range 200 {
		s.Publish([]*zone.Table{old, next}[i%2])
		time.Sleep(time.Millisecond)
	}
	s.Publish(next)
	if got := answers(exchange(t, s.addr, "udp", "web.shop.mesh.internal.", dns.TypeA, 0)); !slices.Equal(got, []string{"10.96.0.3", "10.96.0.4"}) {
		t.Errorf("after Publish: %q", got)
	}
	cancel()
	wg.Wait()
	bad.Range(func(k, _ any) bool { t.Errorf("mixed answer %v", k); return true })
}

func TestServerShutdown(t *testing.T) {
	s := start(t)
	s.Publish(table(t, "10.96.0.10"))
	exchange(t, s.addr, "tcp", "web.shop.mesh.internal.", dns.TypeA, 0)
	if err := s.stop(); err != nil {
		t.Fatalf("Serve returned %v after shutdown", err)
	}
	if c, err := net.DialTimeout("tcp", s.addr, time.Second); err == nil {
		c.Close()
		t.Error("TCP still accepting after shutdown")
	}
}

func TestListenAndServeFails(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The UDP port may be free, the TCP one is taken: ListenAndServe fails and leaves nothing open.
	if err := s.ListenAndServe(t.Context(), l.Addr().String()); err == nil {
		t.Fatal("ListenAndServe on a taken TCP port succeeded")
	}
}
