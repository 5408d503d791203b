package hbone

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// Request header names of DESIGN §5.
const (
	headerForwarded   = "Forwarded"
	headerBaggage     = "Baggage"
	headerTraceparent = "Traceparent"
)

// maxBaggageMembers bounds how many baggage members ParseBaggage looks at.
const maxBaggageMembers = 64

// ErrBadAuthority is wrapped by errors of ParseAuthority and ParseServiceAuthority.
var ErrBadAuthority = errors.New("bad authority")

// Locality describes where the sending workload runs; it travels in the Baggage header.
type Locality struct {
	Cluster   string
	Namespace string
	Network   string
	Region    string
	Zone      string
}

// Metadata is what a tunnel request says about its origin besides the caller's identity.
type Metadata struct {
	// ForwardedFor is the original client's address (Forwarded: for=...); invalid if unknown.
	ForwardedFor netip.Addr
	// Traceparent is a W3C trace context to propagate, or "".
	Traceparent string
}

// ParseAuthority parses a CONNECT authority: an IP literal and a port ("10.0.0.1:80",
// "[fd00::1]:443"). Host names, zones, port 0 and unspecified or multicast addresses are
// rejected because a tunnel always targets one concrete endpoint.
func ParseAuthority(s string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%w %q: %w", ErrBadAuthority, s, err)
	}
	addr := ap.Addr()
	switch {
	case ap.Port() == 0:
		return netip.AddrPort{}, fmt.Errorf("%w %q: port 0", ErrBadAuthority, s)
	case addr.Zone() != "":
		return netip.AddrPort{}, fmt.Errorf("%w %q: zone not allowed", ErrBadAuthority, s)
	case addr.Is4In6():
		return netip.AddrPort{}, fmt.Errorf("%w %q: IPv4-mapped IPv6 not allowed", ErrBadAuthority, s)
	case addr.IsUnspecified() || addr.IsMulticast():
		return netip.AddrPort{}, fmt.Errorf("%w %q: not a unicast address", ErrBadAuthority, s)
	}
	return ap, nil
}

// FormatBaggage encodes l as W3C baggage members k8s.cluster.name, k8s.namespace.name, ...;
// empty fields are left out.
func FormatBaggage(l Locality) string {
	var b strings.Builder
	for _, kv := range [...][2]string{
		{"k8s.cluster.name", l.Cluster},
		{"k8s.namespace.name", l.Namespace},
		{"cloud.network", l.Network},
		{"cloud.region", l.Region},
		{"cloud.availability_zone", l.Zone},
	} {
		if kv[1] == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(kv[0] + "=" + kv[1])
	}
	return b.String()
}

// ParseBaggage extracts a Locality from a W3C baggage value. Unknown members and members
// with properties are ignored; values that are not plain tokens are dropped.
func ParseBaggage(s string) Locality {
	var l Locality
	for i, member := range strings.Split(s, ",") {
		if i == maxBaggageMembers {
			break
		}
		member, _, _ = strings.Cut(member, ";")
		k, v, ok := strings.Cut(member, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || !isToken(v) {
			continue
		}
		switch k {
		case "k8s.cluster.name":
			l.Cluster = v
		case "k8s.namespace.name":
			l.Namespace = v
		case "cloud.network":
			l.Network = v
		case "cloud.region":
			l.Region = v
		case "cloud.availability_zone":
			l.Zone = v
		}
	}
	return l
}

func isToken(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == '/') {
			return false
		}
	}
	return true
}

// ParseForwardedFor returns the first for= address of a Forwarded header (RFC 7239), or an
// invalid Addr when there is none or it is obfuscated.
func ParseForwardedFor(s string) netip.Addr {
	first, _, _ := strings.Cut(s, ",")
	for pair := range strings.SplitSeq(first, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || !strings.EqualFold(k, "for") {
			continue
		}
		v = strings.Trim(v, `"`)
		if ap, err := netip.ParseAddrPort(v); err == nil {
			return ap.Addr()
		}
		v = strings.TrimSuffix(strings.TrimPrefix(v, "["), "]")
		if a, err := netip.ParseAddr(v); err == nil {
			return a
		}
	}
	return netip.Addr{}
}

func formatForwardedFor(a netip.Addr) string {
	if a.Is6() && !a.Is4In6() {
		return `for="[` + a.String() + `]"`
	}
	return "for=" + a.Unmap().String()
}

// requestHeader builds the headers of a CONNECT request; baggage is FormatBaggage of the
// dialer's locality, formatted once per Dialer. The header names are canonical already, so
// the map is filled directly.
func requestHeader(baggage string, md Metadata) http.Header {
	h := make(http.Header, 3)
	if baggage != "" {
		h[headerBaggage] = []string{baggage}
	}
	if md.ForwardedFor.IsValid() {
		h[headerForwarded] = []string{formatForwardedFor(md.ForwardedFor)}
	}
	if md.Traceparent != "" {
		h[headerTraceparent] = []string{md.Traceparent}
	}
	return h
}

// ParseServiceAuthority parses a CONNECT authority that names a service instead of one of its
// endpoints, leaving the choice of the endpoint to the server: a DNS name and a port
// ("api.shop.svc.clusterset.local:8080"). The name is lower-case letters, digits, '-' and
// '.', in labels of 1–63 characters that start and end with a letter or digit, at most 253
// characters, at least two labels and not an IP literal; the port is 1–65535 in decimal
// without leading zeros, so that an accepted authority formats back to itself.
func ParseServiceAuthority(s string) (host string, port uint16, err error) {
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, fmt.Errorf("%w %q: %w", ErrBadAuthority, s, err)
	}
	n, perr := strconv.ParseUint(p, 10, 16)
	if perr != nil || n == 0 || strconv.FormatUint(n, 10) != p {
		return "", 0, fmt.Errorf("%w %q: port must be 1-65535", ErrBadAuthority, s)
	}
	if _, aerr := netip.ParseAddr(h); aerr == nil || !isServiceName(h) {
		return "", 0, fmt.Errorf("%w %q: not a service name", ErrBadAuthority, s)
	}
	return h, uint16(n), nil
}

// FormatServiceAuthority is the authority of a tunnel to the service host on port.
func FormatServiceAuthority(host string, port uint16) string {
	return host + ":" + strconv.Itoa(int(port))
}

// isServiceName reports whether s is a lower-case DNS name of at least two labels.
func isServiceName(s string) bool {
	if len(s) > 253 || !strings.Contains(s, ".") {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
