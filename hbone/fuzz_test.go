package hbone

import (
	"net/http"
	"net/netip"
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

// FuzzParseConnect checks the request validation every tunnel goes through: it never
// panics, accepts only CONNECT, and an accepted authority formats back to itself.
func FuzzParseConnect(f *testing.F) {
	f.Add("CONNECT", "10.0.0.1:80", "", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	f.Add("CONNECT", "[fd00::1]:443", "websocket", "")
	f.Add("GET", "10.0.0.1:80", "", "")
	f.Add("CONNECT", "host:80", "", "zz")
	f.Fuzz(func(t *testing.T, method, authority, protocol, traceparent string) {
		h := http.Header{}
		if protocol != "" {
			h.Set(":protocol", protocol)
		}
		if traceparent != "" {
			h.Set(headerTraceparent, traceparent)
		}
		target, ref := parseConnect(method, authority, h)
		if ref != nil {
			if ref.Status != http.StatusBadRequest {
				t.Fatalf("refusal status %d, want 400", ref.Status)
			}
			return
		}
		if method != http.MethodConnect || protocol != "" {
			t.Fatalf("accepted method %q protocol %q", method, protocol)
		}
		if target.String() != authority {
			t.Fatalf("authority %q parsed as %s", authority, target)
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
