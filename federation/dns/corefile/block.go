package corefile

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/meshfed/meshfed/federation/dns/zone"
)

// Markers around meshfed's blocks in a Corefile; a line holding either, and nothing else,
// marks them.
const (
	BeginMarker = "# meshfed:begin (managed by meshfed; changes between these markers are overwritten)"
	EndMarker   = "# meshfed:end"
)

// DefaultPort is the port CoreDNS serves on in Kubernetes clusters.
const DefaultPort = 53

// DefaultCache is how long CoreDNS caches meshfed-dns's answers, in seconds: no longer than
// meshfed-dns's own TTL, so that changes reach clients as fast as without the cache.
const DefaultCache = 5

// Config says what to forward where.
type Config struct {
	// Zones are forwarded whole: the segment domains and clusterset.local.
	Zones []string
	// TakeoverNames are forwarded one by one: <name>.<ns>.svc.<cluster domain> of each service
	// taken over in this cluster. Each is a zone of its own, more specific than the cluster
	// domain, so CoreDNS sends only that name (and names below it) to meshfed-dns.
	TakeoverNames []string
	// Upstreams are meshfed-dns's addresses, IP:port (its Service's ClusterIP, port 53).
	Upstreams []string
	// Port is the port the blocks serve on, CoreDNS's own (DefaultPort when 0).
	Port int
	// Cache is CoreDNS's cache time for the forwarded answers in seconds (DefaultCache when 0,
	// no cache when negative).
	Cache int
}

// Validate checks the zones, names and upstreams.
func (c Config) Validate() error {
	var errs []error
	if len(c.Zones) == 0 && len(c.TakeoverNames) == 0 {
		errs = append(errs, errors.New("no zone and no takeover name to forward"))
	}
	for _, z := range slices.Concat(c.Zones, c.TakeoverNames) {
		if !zone.IsDomain(normalize(z)) {
			errs = append(errs, fmt.Errorf("invalid zone %q", z))
		}
	}
	if len(c.Upstreams) == 0 {
		errs = append(errs, errors.New("no upstream"))
	}
	for _, u := range c.Upstreams {
		if ap, err := netip.ParseAddrPort(u); err != nil || ap.Port() == 0 {
			errs = append(errs, fmt.Errorf("upstream %q is not IP:port", u))
		}
	}
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d out of range", c.Port))
	}
	return errors.Join(errs...)
}

// normalize lowercases a domain and drops its trailing dot.
func normalize(s string) string { return strings.TrimSuffix(strings.ToLower(s), ".") }

// Block returns meshfed's server blocks between the markers, ending with a newline: one block
// for the zones and one for the takeover names (each present only when not empty), with the
// names sorted so that the same Config always gives the same text.
func Block(c Config) (string, error) {
	if err := c.Validate(); err != nil {
		return "", fmt.Errorf("failed to write meshfed's Corefile block: %w", err)
	}
	port := strconv.Itoa(cmp.Or(c.Port, DefaultPort))
	var b strings.Builder
	b.WriteString(BeginMarker + "\n")
	server := func(comment string, names []string) {
		if len(names) == 0 {
			return
		}
		keys := make([]string, 0, len(names))
		for _, n := range sortedUnique(names) {
			keys = append(keys, n+":"+port)
		}
		b.WriteString("# " + comment + "\n")
		b.WriteString(strings.Join(keys, " ") + " {\n    errors\n")
		if cache := cmp.Or(c.Cache, DefaultCache); cache > 0 {
			b.WriteString("    cache " + strconv.Itoa(cache) + "\n")
		}
		b.WriteString("    forward . " + strings.Join(c.Upstreams, " ") + "\n}\n")
	}
	server("the federation's zones, answered by meshfed-dns", c.Zones)
	server("global services taking over their cluster-local names, answered by meshfed-dns", c.TakeoverNames)
	b.WriteString(EndMarker + "\n")
	return b.String(), nil
}

func sortedUnique(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, normalize(n))
	}
	slices.Sort(out)
	return slices.Compact(out)
}
