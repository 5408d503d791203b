package hbone

import (
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

func mustParseAuthority(s string) netip.AddrPort {
	ap, err := ParseAuthority(s)
	if err != nil {
		panic(err)
	}
	return ap
}

func TestParseAuthority(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"10.0.0.1:80", true},
		{"[fd00::1]:443", true},
		{"127.0.0.1:65535", true},
		{"example.com:80", false},
		{"10.0.0.1", false},
		{"10.0.0.1:0", false},
		{"[::]:80", false},
		{"224.0.0.1:80", false},
		{"[::ffff:10.0.0.1]:80", false},
		{"[fe80::1%eth0]:80", false},
		{"", false},
		{" 10.0.0.1:80", false},
	}
	for _, tt := range tests {
		if _, err := ParseAuthority(tt.in); (err == nil) != tt.ok {
			t.Errorf("ParseAuthority(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}

func TestParseServiceAuthority(t *testing.T) {
	tests := []struct {
		in   string
		host string
		port uint16
	}{
		{"api.shop.svc.clusterset.local:8080", "api.shop.svc.clusterset.local", 8080},
		{"a-1.b:1", "a-1.b", 1},
		{"a.b:65535", "a.b", 65535},
		{"10.0.0.1:80", "", 0},                       // an endpoint, not a service
		{"[fd00::1]:80", "", 0},                      // likewise
		{"localhost:80", "", 0},                      // one label
		{"API.shop:80", "", 0},                       // upper case
		{"a.b:0", "", 0},                             // port 0
		{"a.b:080", "", 0},                           // leading zero
		{"a.b:65536", "", 0},                         // too large
		{"a.b:+80", "", 0},                           // sign
		{"a..b:80", "", 0},                           // empty label
		{"-a.b:80", "", 0},                           // leading hyphen
		{"a.b-:80", "", 0},                           // trailing hyphen
		{"a_b.c:80", "", 0},                          // underscore
		{"a.b.:80", "", 0},                           // trailing dot
		{"a.b", "", 0},                               // no port
		{"", "", 0},                                  // nothing
		{"a.b:80/x", "", 0},                          // path
		{strings.Repeat("a", 64) + ".b:80", "", 0},   // label too long
		{strings.Repeat("a.", 127) + "ab:80", "", 0}, // 255 characters
	}
	for _, tt := range tests {
		host, port, err := ParseServiceAuthority(tt.in)
		if (err == nil) != (tt.host != "") || host != tt.host || port != tt.port {
			t.Errorf("ParseServiceAuthority(%q) = %q, %d, %v; want %q, %d", tt.in, host, port, err, tt.host, tt.port)
		}
		if err != nil && !errors.Is(err, ErrBadAuthority) {
			t.Errorf("ParseServiceAuthority(%q) error %v does not wrap ErrBadAuthority", tt.in, err)
		}
	}
}

// FuzzParseConnect checks the request validation every tunnel goes through: it never
// panics, accepts only CONNECT, a service target only from a server that accepts them, and an
// accepted authority formats back to itself.
func FuzzParseConnect(f *testing.F) {
	f.Add("CONNECT", "10.0.0.1:80", "", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", false)
	f.Add("CONNECT", "[fd00::1]:443", "websocket", "", true)
	f.Add("GET", "10.0.0.1:80", "", "", false)
	f.Add("CONNECT", "host:80", "", "zz", true)
	f.Add("CONNECT", "api.shop.svc.clusterset.local:8080", "", "", true)
	f.Add("CONNECT", "api.shop.svc.clusterset.local:8080", "", "", false)
	f.Fuzz(func(t *testing.T, method, authority, protocol, traceparent string, services bool) {
		h := http.Header{}
		if protocol != "" {
			h.Set(":protocol", protocol)
		}
		if traceparent != "" {
			h.Set(headerTraceparent, traceparent)
		}
		target, service, ref := parseConnect(method, authority, h, services)
		if ref != nil {
			if ref.Status != http.StatusBadRequest {
				t.Fatalf("refusal status %d, want 400", ref.Status)
			}
			return
		}
		if method != http.MethodConnect || protocol != "" {
			t.Fatalf("accepted method %q protocol %q", method, protocol)
		}
		switch {
		case service == "":
			if target.String() != authority {
				t.Fatalf("authority %q parsed as %s", authority, target)
			}
		case !services:
			t.Fatalf("service target %q accepted by a server that takes none", authority)
		case target.Addr().IsValid() || FormatServiceAuthority(service, target.Port()) != authority:
			t.Fatalf("service authority %q parsed as %q, %s", authority, service, target)
		}
	})
}

// FuzzRequestHeaders checks that baggage and Forwarded parsing never panic and that
// formatting then parsing round-trips.
func FuzzRequestHeaders(f *testing.F) {
	f.Add("k8s.cluster.name=c1,cloud.region=eu;p=1", `for="[fd00::1]:80";proto=https`, "c1", "eu-west-1")
	f.Fuzz(func(t *testing.T, baggage, forwarded, cluster, region string) {
		ParseBaggage(baggage)
		ParseForwardedFor(forwarded)
		l := Locality{Cluster: cluster, Region: region}
		if !isToken(cluster) || !isToken(region) {
			return
		}
		if got := ParseBaggage(FormatBaggage(l)); got != l {
			t.Fatalf("baggage round trip %+v = %+v", l, got)
		}
	})
}

func TestForwardedRoundTrip(t *testing.T) {
	for _, a := range []string{"10.1.2.3", "fd00::1"} {
		addr := netip.MustParseAddr(a)
		if got := ParseForwardedFor(formatForwardedFor(addr)); got != addr {
			t.Errorf("Forwarded round trip %s = %s", addr, got)
		}
	}
}
