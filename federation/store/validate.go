package store

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/meshfed/meshfed/federation/model"
)

// Validate implements Record.
func (r *ClusterRecord) Validate() error {
	return r.Key().Validate()
}

// Validate implements Record.
func (r *ServiceRecord) Validate() error {
	if err := r.Key().Validate(); err != nil {
		return err
	}
	if r.Hostname == "" {
		return invalid(r, "hostname is empty")
	}
	if err := validScope(r, r.Scope); err != nil {
		return err
	}
	if t := model.ServiceType(r.Type); t != model.ServiceTypeClusterSetIP && t != model.ServiceTypeHeadless {
		return invalid(r, fmt.Sprintf("unknown service type %q", r.Type))
	}
	for _, p := range r.Ports {
		if !validPort(p.Port) || (p.WaypointPort != 0 && !validPort(p.WaypointPort)) {
			return invalid(r, fmt.Sprintf("port %q out of range", p.Name))
		}
	}
	if err := validLoadPolicy(r, r.LoadPolicy); err != nil {
		return err
	}
	return validProperties(r, r.Properties)
}

// maxTrafficDistribution bounds spec.trafficDistribution, a Kubernetes qualified name.
const maxTrafficDistribution = 316

// validProperties checks the values Kubernetes allows for the fields of a Service that a
// ServiceImport repeats, so that a record read back cannot make the hub write a ServiceImport
// the member's API server rejects.
func validProperties(r Record, p *StoredProperties) error {
	if p == nil {
		return nil
	}
	switch {
	case p.SessionAffinity != "" && p.SessionAffinity != "None" && p.SessionAffinity != "ClientIP":
		return invalid(r, fmt.Sprintf("unknown session affinity %q", p.SessionAffinity))
	case p.SessionAffinityTimeoutSeconds != nil && (*p.SessionAffinityTimeoutSeconds < 1 || *p.SessionAffinityTimeoutSeconds > 86400):
		return invalid(r, fmt.Sprintf("session affinity timeout %d is outside 1–86400", *p.SessionAffinityTimeoutSeconds))
	case p.InternalTrafficPolicy != "" && p.InternalTrafficPolicy != "Cluster" && p.InternalTrafficPolicy != "Local":
		return invalid(r, fmt.Sprintf("unknown internal traffic policy %q", p.InternalTrafficPolicy))
	case !validDistributionName(p.TrafficDistribution):
		return invalid(r, fmt.Sprintf("traffic distribution %q is not a qualified name", p.TrafficDistribution))
	case len(p.IPFamilies) > 2 || (len(p.IPFamilies) == 2 && p.IPFamilies[0] == p.IPFamilies[1]):
		return invalid(r, fmt.Sprintf("IP families %v are not one or two distinct families", p.IPFamilies))
	}
	for _, f := range p.IPFamilies {
		if f != "IPv4" && f != "IPv6" {
			return invalid(r, fmt.Sprintf("unknown IP family %q", f))
		}
	}
	return nil
}

// validDistributionName accepts an empty value or letters, digits and - _ . / up to
// maxTrafficDistribution bytes.
func validDistributionName(s string) bool {
	if len(s) > maxTrafficDistribution {
		return false
	}
	for _, c := range []byte(s) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '/'
		if !ok {
			return false
		}
	}
	return true
}

// validLoadPolicy checks the ranges the annotations' parsers enforce: an overprovisioning
// factor of at least 1, a panic threshold of at most 100, a remote-endpoints value that is
// absent, "each" or "aggregated".
func validLoadPolicy(r Record, p *StoredLoadPolicy) error {
	switch {
	case p == nil:
		return nil
	case p.OverprovisioningFactor != nil && *p.OverprovisioningFactor == 0:
		return invalid(r, "overprovisioning factor is 0")
	case p.PanicThreshold != nil && *p.PanicThreshold > 100:
		return invalid(r, fmt.Sprintf("panic threshold %d is above 100", *p.PanicThreshold))
	}
	switch model.RemoteEndpoints(p.RemoteEndpoints) {
	case "", model.RemoteEndpointsEach, model.RemoteEndpointsAggregated:
		return nil
	}
	return invalid(r, fmt.Sprintf("unknown remote endpoints %q", p.RemoteEndpoints))
}

// Validate implements Record. Every endpoint must carry the record's cluster (or none) in its
// locality: a cluster's slice never holds another cluster's endpoints.
func (r *EndpointsRecord) Validate() error {
	if err := r.validateFields(); err != nil {
		return err
	}
	for i := range r.Endpoints {
		if err := validEndpoint(&r.Endpoints[i], r.Cluster); err != nil {
			return fmt.Errorf("failed to validate record %s: %w: %w", r.Key(), err, ErrInvalidRecord)
		}
	}
	return nil
}

// validateFields validates everything of r but its endpoints.
func (r *EndpointsRecord) validateFields() error {
	if err := r.Key().Validate(); err != nil {
		return err
	}
	return validScope(r, r.Scope)
}

// Validate implements Record.
func (r *WaypointsRecord) Validate() error {
	if err := r.Key().Validate(); err != nil {
		return err
	}
	for _, a := range r.Addresses {
		if !validHostPort(a) {
			return invalid(r, fmt.Sprintf("address %q is not host:port", a))
		}
	}
	switch {
	case r.Gateway == "" && r.Identity != "":
		return invalid(r, "identity without gateway")
	case r.Gateway == "":
		return nil
	case !validSegment(r.Gateway) || strings.Contains(r.Gateway, "."):
		return invalid(r, fmt.Sprintf("gateway %q is not a namespace name", r.Gateway))
	case !validSPIFFEID(r.Identity):
		return invalid(r, fmt.Sprintf("identity %q is not a SPIFFE ID", r.Identity))
	}
	return nil
}

// Validate implements Record: the namespaces served are namespace names, sorted, each once, and
// not the gateway's own.
func (r *GatewayRecord) Validate() error {
	if err := r.Key().Validate(); err != nil {
		return err
	}
	for i, ns := range r.Serves {
		switch {
		case !validSegment(ns) || strings.Contains(ns, "."):
			return invalid(r, fmt.Sprintf("served namespace %q is not a namespace name", ns))
		case ns == r.Namespace:
			return invalid(r, fmt.Sprintf("serves its own namespace %q", ns))
		case i > 0 && r.Serves[i-1] >= ns:
			return invalid(r, "served namespaces not sorted or listed twice")
		}
	}
	return nil
}

// validSPIFFEID reports whether s reads as spiffe://<trust domain>/<path>: no user, port,
// query or fragment, a path that is not just "/". The waypoint parses it fully (hbone/identity);
// this keeps records that could never name a peer out of the store.
func validSPIFFEID(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "spiffe" && u.User == nil && u.Port() == "" && validSegment(u.Host) &&
		len(u.Path) > 1 && u.RawQuery == "" && u.Fragment == "" && !u.ForceQuery && u.String() == s
}

func invalid(r Record, why string) error {
	return fmt.Errorf("failed to validate record %s: %s: %w", r.Key(), why, ErrInvalidRecord)
}

func validScope(r Record, s string) error {
	if model.Scope(s).Width() < 0 {
		return invalid(r, fmt.Sprintf("unknown scope %q", s))
	}
	return nil
}

func validPort(p int32) bool { return p > 0 && p <= 65535 }

func validEndpoint(e *StoredEndpoint, cluster string) error {
	if _, err := netip.ParseAddr(e.Address); err != nil {
		return fmt.Errorf("endpoint address %q is not an IP", e.Address)
	}
	if e.Locality.Cluster != "" && e.Locality.Cluster != cluster {
		return fmt.Errorf("endpoint %s belongs to cluster %q: %w", e.Address, e.Locality.Cluster, ErrKeyMismatch)
	}
	for _, p := range e.Ports {
		if !validPort(p.Port) {
			return fmt.Errorf("endpoint %s port %q out of range", e.Address, p.Name)
		}
	}
	return nil
}

func validHostPort(a string) bool {
	host, port, err := net.SplitHostPort(a)
	if err != nil || host == "" {
		return false
	}
	n, err := strconv.ParseUint(port, 10, 16)
	return err == nil && n > 0
}

// Validate implements Record: at least one chunk, each named once by a valid ID. A head naming
// a chunk twice could make a reader join far more endpoints than the store holds; the writer
// never makes one, since a cluster's endpoints have distinct addresses and so distinct chunks.
func (r *EndpointsHead) Validate() error {
	if err := r.Key().Validate(); err != nil {
		return err
	}
	if err := validScope(r, r.Scope); err != nil {
		return err
	}
	if len(r.Chunks) == 0 || r.Count < 0 {
		return invalid(r, fmt.Sprintf("%d chunks, count %d", len(r.Chunks), r.Count))
	}
	seen := make(map[string]bool, len(r.Chunks))
	for _, id := range r.Chunks {
		if !validChunkID(id) {
			return invalid(r, fmt.Sprintf("chunk %q is not a chunk ID", id))
		}
		if seen[id] {
			return invalid(r, fmt.Sprintf("chunk %s named twice", id))
		}
		seen[id] = true
	}
	return nil
}

// Validate implements Record: at least one endpoint, each of the chunk's cluster (or none), as
// in an EndpointsRecord.
func (r *EndpointsChunk) Validate() error {
	if err := r.Key().Validate(); err != nil {
		return err
	}
	if len(r.Endpoints) == 0 {
		return invalid(r, "no endpoints")
	}
	for i := range r.Endpoints {
		if err := validEndpoint(&r.Endpoints[i], r.Cluster); err != nil {
			return fmt.Errorf("failed to validate record %s: %w: %w", r.Key(), err, ErrInvalidRecord)
		}
	}
	return nil
}
