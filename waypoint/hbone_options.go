package waypoint

import (
	"fmt"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/hbone/identity"
)

// Defaults of HBONEOptions.
const (
	// DefaultTrustDomain is the SPIFFE trust domain peers are expected in; it is also the
	// default of `meshfedctl ca init`.
	DefaultTrustDomain = "cluster.local"
	// ServiceAccount is the service account every waypoint runs as; a waypoint's SPIFFE ID is
	// spiffe://<trust-domain>/ns/<namespace>/sa/meshfed-waypoint.
	ServiceAccount = wellknown.WaypointName
)

// HBONEOptions configure cross-network traffic: tunnels out to other networks' waypoints and
// the inbound HBONE server. With no Identity the waypoint routes same-network endpoints only.
type HBONEOptions struct {
	// Identity supplies the waypoint's certificate, key and roots (identity.FileSource in
	// production); nil disables HBONE in both directions.
	Identity identity.Source
	// TrustDomain is the trust domain of peers and callers; default DefaultTrustDomain. It must
	// be the trust domain of Identity's certificate, since the TLS layer accepts only that one.
	TrustDomain string
	// ListenAddress is where the inbound server listens, TCP for HTTP/2 and UDP for HTTP/3 on
	// the same port (e.g. ":15008"); empty disables inbound.
	ListenAddress string
	// Protocol is the outbound transport: hbone.ProtocolH2 (the zero value) or hbone.ProtocolH3,
	// which falls back to HTTP/2 when QUIC cannot reach a peer.
	Protocol hbone.Protocol
	// AllowCallers, when not empty, replaces the default caller policy (a waypoint of this
	// namespace in TrustDomain) by exactly these SPIFFE IDs.
	AllowCallers []identity.ID
	// Limits bound what callers can make the inbound server hold; zero fields take the hbone
	// defaults (Limits.UpstreamTimeout bounds the dial to a local endpoint).
	Limits hbone.Limits
}

// Enabled reports whether HBONE is configured.
func (o *HBONEOptions) Enabled() bool { return o.Identity != nil }

// validate checks the options against the namespace and the cluster the waypoint serves.
func (o *HBONEOptions) validate(namespace, cluster string) error {
	if o.Identity == nil {
		return nil
	}
	switch o.Protocol {
	case hbone.ProtocolH2, hbone.ProtocolH3:
	case hbone.ProtocolH3Only:
		return fmt.Errorf("failed to validate option hbone protocol %s: use h3, which falls back to h2", o.Protocol)
	default:
		return fmt.Errorf("failed to validate option hbone protocol %s: want h2 or h3", o.Protocol)
	}
	td := o.trustDomain()
	if _, err := identity.WorkloadID(td, namespace, ServiceAccount); err != nil {
		return fmt.Errorf("failed to validate option trust domain %q: %w", td, err)
	}
	m := o.Identity.Material()
	if m == nil {
		return fmt.Errorf("failed to validate option hbone identity: %w", errMissingOption)
	}
	if got := m.ID.TrustDomain(); got != td {
		return fmt.Errorf("failed to validate option trust domain %q: the certificate's identity %s is in trust domain %q", td, m.ID, got)
	}
	// Peers authorize this waypoint's tunnels by the cluster its certificate names, and
	// expect that cluster of its server: without it, or with another, HBONE cannot work.
	if m.Cluster != cluster {
		return fmt.Errorf("failed to validate option hbone identity: the certificate names cluster %q, want %q (issue it with meshfedctl ca issue --cluster %s)", m.Cluster, cluster, cluster)
	}
	for _, id := range o.AllowCallers {
		if id.IsZero() {
			return fmt.Errorf("failed to validate option allow callers: empty SPIFFE ID: %w", errMissingOption)
		}
	}
	return nil
}

func (o *HBONEOptions) trustDomain() string {
	if o.TrustDomain == "" {
		return DefaultTrustDomain
	}
	return o.TrustDomain
}

// peerID is the SPIFFE ID of every waypoint of namespace; validate checked that it parses.
func (o *HBONEOptions) peerID(namespace string) identity.ID {
	id, _ := identity.WorkloadID(o.trustDomain(), namespace, ServiceAccount)
	return id
}
