package probe

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/meshfed/meshfed/federation/dns/zone"
)

// table takes over web.shop and api.shop (api with an IPv6 address too) and serves cart.shop
// without takeover.
func table(t *testing.T) *zone.Table {
	t.Helper()
	tbl, err := zone.Build([]zone.Service{
		{Namespace: "shop", Name: "web", IPs: []netip.Addr{netip.MustParseAddr("10.96.0.10")}, Takeover: true},
		{Namespace: "shop", Name: "api", IPs: []netip.Addr{netip.MustParseAddr("10.96.0.11"), netip.MustParseAddr("fd00::11")}, Takeover: true},
		{Namespace: "shop", Name: "cart", IPs: []netip.Addr{netip.MustParseAddr("10.96.0.12")}},
	}, zone.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// resolver serves answers (name -> records, as text) on a loopback UDP port, as the cluster's
// DNS would; a name it does not know gets NXDOMAIN.
func resolver(t *testing.T, answers map[string][]string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		resp := new(dns.Msg)
		resp.SetReply(req)
		q := req.Question[0]
		rrs, ok := answers[q.Name]
		if !ok {
			resp.Rcode = dns.RcodeNameError
		}
		for _, text := range rrs {
			rr, err := dns.NewRR(text)
			if err != nil {
				t.Error(err)
				continue
			}
			if rr.Header().Rrtype == q.Qtype {
				resp.Answer = append(resp.Answer, rr)
			}
		}
		_ = w.WriteMsg(resp)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

func TestConfirm(t *testing.T) {
	const web, api = "web.shop.svc.cluster.local.", "api.shop.svc.cluster.local."
	tests := []struct {
		name    string
		answers map[string][]string
		want    []string
	}{
		{name: "not forwarded: the local Services answer", answers: map[string][]string{
			web: {web + " 5 IN A 10.96.5.1"}, api: {api + " 5 IN A 10.96.5.2"},
		}},
		{name: "both forwarded", answers: map[string][]string{
			web: {web + " 5 IN A 10.96.0.10"}, api: {api + " 5 IN A 10.96.0.11", api + " 5 IN AAAA fd00::11"},
		}, want: []string{api, web}},
		{name: "one family missing", answers: map[string][]string{
			web: {web + " 5 IN A 10.96.0.10"}, api: {api + " 5 IN A 10.96.0.11"},
		}, want: []string{web}},
		{name: "an extra address", answers: map[string][]string{
			web: {web + " 5 IN A 10.96.0.10", web + " 5 IN A 10.96.0.99"},
		}},
		{name: "unknown to the cluster", answers: map[string][]string{}},
	}
	tbl := table(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Confirm(t.Context(), tbl, resolver(t, tt.answers), UDPExchange)
			slices.Sort(got)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("Confirm() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestConfirmUnanswered(t *testing.T) {
	fail := func(context.Context, *dns.Msg, string) (*dns.Msg, error) { return nil, errors.New("timeout") }
	got, err := Confirm(t.Context(), table(t), "192.0.2.1:53", fail)
	if len(got) != 0 || err == nil {
		t.Errorf("Confirm() = %q, %v; want nothing and an error", got, err)
	}
}

func TestUDPExchangeTimesOut(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0") // never answers
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	req := new(dns.Msg)
	req.SetQuestion("web.shop.svc.cluster.local.", dns.TypeA)
	began := time.Now()
	if _, err := UDPExchange(t.Context(), req, pc.LocalAddr().String()); err == nil {
		t.Fatal("no error from a silent resolver")
	}
	// Bounded well past queryTimeout: the check is that the exchange gives up, and a loaded
	// machine can hold the test for seconds after the timeout fired.
	if d := time.Since(began); d > 3*queryTimeout {
		t.Errorf("gave up after %s, want about %s", d, queryTimeout)
	}
}

func TestResolverFromFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ text, want string }{
		{"search shop.svc.cluster.local svc.cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n", "10.96.0.10:53"},
		{"nameserver fd00::a\nnameserver 10.0.0.1\n", "[fd00::a]:53"},
		{"search x\n", ""},
	}
	for i, tt := range tests {
		p := filepath.Join(dir, string(rune('a'+i)))
		if err := os.WriteFile(p, []byte(tt.text), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := ResolverFromFile(p)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("%q: %q, %v; want %q", tt.text, got, err, tt.want)
		}
	}
	if _, err := ResolverFromFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("no error for a missing file")
	}
}
