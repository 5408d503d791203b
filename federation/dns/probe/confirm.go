package probe

import (
	"context"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/miekg/dns"

	"github.com/meshfed/meshfed/federation/dns/zone"
)

// Exchange sends one query to addr and returns the response.
type Exchange func(ctx context.Context, req *dns.Msg, addr string) (*dns.Msg, error)

// Confirm returns the names of t.Takeovers() (fully qualified) for which the resolver at addr
// answers as t does: for A and for AAAA, the same set of addresses, or no address where t has
// none. A name the resolver fails to answer is not confirmed; the error of the last such name
// is returned along with the confirmed ones.
func Confirm(ctx context.Context, t *zone.Table, addr string, ex Exchange) ([]string, error) {
	var (
		confirmed []string
		lastErr   error
	)
	for _, name := range t.Takeovers() {
		same := true
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
			req := new(dns.Msg)
			req.SetQuestion(name, qt)
			want := addresses(t.Answer(req, true))
			resp, err := ex(ctx, req, addr)
			if err != nil {
				lastErr = fmt.Errorf("failed to ask %s for %s: %w", addr, name, err)
				same = false
				break
			}
			if resp.Rcode != dns.RcodeSuccess || !slices.Equal(addresses(resp), want) {
				same = false
				break
			}
		}
		if same {
			confirmed = append(confirmed, name)
		}
	}
	return confirmed, lastErr
}

// addresses returns the A and AAAA addresses of m's answer section, sorted; nil for a nil m.
func addresses(m *dns.Msg) []string {
	if m == nil {
		return nil
	}
	var out []string
	for _, rr := range m.Answer {
		switch r := rr.(type) {
		case *dns.A:
			out = append(out, r.A.String())
		case *dns.AAAA:
			out = append(out, r.AAAA.String())
		}
	}
	slices.Sort(out)
	return out
}

// queryTimeout bounds one exchange with the cluster's DNS.
const queryTimeout = 2 * time.Second

// UDPExchange asks over UDP and again over TCP when the answer came truncated, as a stub
// resolver does.
func UDPExchange(ctx context.Context, req *dns.Msg, addr string) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	resp, _, err := (&dns.Client{Net: "udp"}).ExchangeContext(ctx, req, addr)
	if err == nil && !resp.Truncated {
		return resp, nil
	}
	resp, _, err = (&dns.Client{Net: "tcp"}).ExchangeContext(ctx, req, addr)
	return resp, err
}

// ResolverFromFile returns the first nameserver of a resolv.conf file as host:port: the
// cluster's DNS for a pod with the ClusterFirst DNS policy.
func ResolverFromFile(path string) (string, error) {
	cfg, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return "", fmt.Errorf("failed to read the resolver configuration %s: %w", path, err)
	}
	if len(cfg.Servers) == 0 {
		return "", fmt.Errorf("no nameserver in %s", path)
	}
	return net.JoinHostPort(cfg.Servers[0], cfg.Port), nil
}
