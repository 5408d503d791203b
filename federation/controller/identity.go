package controller

import (
	"cmp"
	"net/url"

	"github.com/meshfed/meshfed/apis/wellknown"
)

// DefaultTrustDomain is the trust domain of FederationOptions that names none, the hub's
// --trust-domain default.
const DefaultTrustDomain = "cluster.local"

// SPIFFEID is the SPIFFE ID of the ServiceAccount sa of namespace ns in trustDomain,
// spiffe://<trust domain>/ns/<ns>/sa/<sa> (DESIGN §5): the one home of that computation on
// the hub's side, for the identities its records name and the certificates it issues (the
// control plane does not link hbone/identity).
func SPIFFEID(trustDomain, ns, sa string) *url.URL {
	return &url.URL{Scheme: "spiffe", Host: trustDomain, Path: "/ns/" + ns + "/sa/" + sa}
}

// GatewayID is the SPIFFE ID of the shared gateway in namespace gwns:
// spiffe://<trust domain>/ns/<gwns>/sa/meshfed-gateway, the ServiceAccount its pods run as.
func GatewayID(trustDomain, gwns string) *url.URL {
	return SPIFFEID(trustDomain, gwns, wellknown.GatewayName)
}

// trustDomain is the options' trust domain, DefaultTrustDomain when they name none.
func (o FederationOptions) trustDomain() string { return cmp.Or(o.TrustDomain, DefaultTrustDomain) }
