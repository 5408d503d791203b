package zone

import (
	"net/netip"
	"strings"

	"github.com/meshfed/meshfed/apis/wellknown"
)

// Service is one global service as a member cluster imports it: what its ServiceImport says.
type Service struct {
	// Namespace and Name are the ServiceImport's (namespace sameness: the global service's).
	Namespace string
	Name      string
	// IPs are the addresses clients of this cluster use (the derived Service's ClusterIPs).
	// A service without IPs (headless, or its derived Service has no address yet) has no names.
	IPs []netip.Addr
	// Ports are the service's ports; named ones get SRV records _<name>._<protocol>.
	Ports []Port
	// Hostname is <name>.<ns>.<segment domain>, or "" when the import names none.
	Hostname string
	// Takeover asks for <name>.<ns>.svc.<cluster domain> as well.
	Takeover bool
	// Headless marks a Headless import: its names answer with Endpoints, not IPs; it has no
	// takeover name. Without a ready endpoint it has no names (NXDOMAIN).
	Headless bool
	// Endpoints are a Headless service's ready endpoints in every source cluster (the MCS
	// EndpointSlices of the import).
	Endpoints []Endpoint
	// Released marks a takeover that ended while the cluster's CoreDNS may still forward
	// <name>.<ns>.svc.<cluster domain> here: only that name is served, with the addresses and
	// ports of the cluster's own Service of that name (what the cluster's DNS answers once it
	// stops forwarding); without IPs it has no records (NODATA). An import taking the same
	// name over wins.
	Released bool
}

// Endpoint is one ready endpoint of a Headless service. Its own name is
// <hostname>.<cluster ID>.<service>.<ns>.svc.clusterset.local, the target of the service's SRV
// records.
type Endpoint struct {
	// ClusterID is the ID of the cluster the endpoint runs in (the MCS source-cluster label).
	ClusterID string
	// Hostname is the endpoint's hostname; "" names it by its first address, with '.' and
	// ':' as '-' (what the MCS conformance suite expects of an endpoint without one).
	Hostname  string
	Addresses []netip.Addr
	// Ports are the endpoint's ports (its EndpointSlice's): their numbers go in SRV records.
	Ports []Port
}

// label is the endpoint's name below <cluster ID>.<service>.<ns>.svc.clusterset.local.
func (e *Endpoint) label() string {
	if e.Hostname != "" || len(e.Addresses) == 0 {
		return strings.ToLower(e.Hostname)
	}
	return strings.NewReplacer(".", "-", ":", "-").Replace(e.Addresses[0].String())
}

// Port is a service port.
type Port struct {
	// Name is the port's name, "" for an unnamed port (no SRV record of its own).
	Name string
	// Protocol is TCP, UDP or SCTP (any case).
	Protocol string
	// Number is the service port.
	Number uint16
}

// Omission says why Build left out a service, or a name of it.
type Omission struct {
	Namespace string
	Name      string
	Reason    string
}

func (p Omission) String() string { return p.Namespace + "/" + p.Name + ": " + p.Reason }

// IsDomain reports whether s (no trailing dot) is one or more DNS labels as Kubernetes names
// use them (lowercase letters, digits and '-', not at either end, 1–63 characters), separated by
// dots, at most 253 characters: the names this package serves zones for.
func IsDomain(s string) bool { return wellknown.IsDNSSubdomain(s) }

// isSubdomain reports whether child equals parent or lies below it (both without trailing dots).
func isSubdomain(child, parent string) bool {
	return child == parent || strings.HasSuffix(child, "."+parent)
}

// protocolLabel is the SRV protocol label of p (_tcp, _udp, _sctp), "" for an unknown protocol.
func protocolLabel(p string) string {
	switch strings.ToLower(p) {
	case "tcp", "":
		return "_tcp"
	case "udp":
		return "_udp"
	case "sctp":
		return "_sctp"
	default:
		return ""
	}
}
