package dnsbench

import (
	"fmt"
	"net/netip"
	"strings"
)

// namespaces is how many namespaces the services are spread over.
const namespaces = 100

// The names of service i, the same in the ServiceImports and in the zone files.
func namespaceOf(i int) string { return fmt.Sprintf("ns-%d", i%namespaces) }
func nameOf(i int) string      { return fmt.Sprintf("svc-%d", i) }

// ipOf is service i's address: distinct for up to 2^20 services.
func ipOf(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(96 + i>>16), byte(i >> 8), byte(i)})
}

// takeover marks every tenth service, as a member would have a few taken over.
func takeover(i int) bool { return i%10 == 0 }

// zoneFiles renders the zone files CoreDNS serves: the same records meshfed-dns answers for the
// services' hostnames (mesh.internal) and MCS names (clusterset.local), with the same TTL, SOA
// and SRV records for the named port.
func zoneFiles(services int) (meshInternal, clusterSet string) {
	var m, c strings.Builder
	header := func(b *strings.Builder, zone string) {
		fmt.Fprintf(b, "$ORIGIN %s.\n$TTL 5\n@ IN SOA ns.dns.%s. hostmaster.%s. 1 7200 1800 86400 5\n@ IN NS ns.dns.%s.\n", zone, zone, zone, zone)
	}
	header(&m, "mesh.internal")
	header(&c, "clusterset.local")
	c.WriteString("dns-version IN TXT \"1.0.0\"\n")
	for i := range services {
		base := nameOf(i) + "." + namespaceOf(i)
		fmt.Fprintf(&m, "%s IN A %s\n_http._tcp.%s IN SRV 0 100 80 %s.mesh.internal.\n_grpc._tcp.%s IN SRV 0 100 9090 %s.mesh.internal.\n",
			base, ipOf(i), base, base, base, base)
		fmt.Fprintf(&c, "%s.svc IN A %s\n_http._tcp.%s.svc IN SRV 0 100 80 %s.svc.clusterset.local.\n_grpc._tcp.%s.svc IN SRV 0 100 9090 %s.svc.clusterset.local.\n",
			base, ipOf(i), base, base, base, base)
	}
	return m.String(), c.String()
}
