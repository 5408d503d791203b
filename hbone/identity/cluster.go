package identity

import (
	"crypto/x509"
	"errors"
	"fmt"
	"slices"

	"github.com/meshfed/meshfed/hbone/pki"
)

// ClusterOrganization marks a certificate whose Subject names a member cluster: a Subject with
// Organization ClusterOrganization carries the cluster as its one OrganizationalUnit, as
// Kubernetes reads a client certificate's groups from its Organization (pki.ClusterOrganization,
// where certificates are built).
//
// The cluster stays out of the SPIFFE ID on purpose: Istio and ztunnel accept only
// spiffe://<td>/ns/<ns>/sa/<sa> and take a certificate's first URI SAN as its identity, and an
// X.509-SVID carries exactly one URI SAN. The Subject is free under the SPIFFE specification
// and ignored by those peers, so a meshfed certificate stays a valid Istio workload certificate.
const ClusterOrganization = pki.ClusterOrganization

// ErrInvalidCluster is wrapped by errors about a cluster name or its place in a certificate.
var ErrInvalidCluster = errors.New("invalid cluster")

// Workload is who a certificate names: a SPIFFE ID and, for a waypoint, the member cluster it
// runs in. As an expectation (ClientConfig) a zero ID accepts any workload of the trust domain
// and an empty Cluster any cluster or none.
type Workload struct {
	ID      ID
	Cluster string
}

// String formats the workload as its ID, followed by " in cluster <name>" when it has one.
func (w Workload) String() string {
	if w.Cluster == "" {
		return w.ID.String()
	}
	return w.ID.String() + " in cluster " + w.Cluster
}

// ValidateCluster checks that name can be carried in a certificate: a DNS-1123 subdomain
// (lower-case alphanumerics and '-' in dot-separated labels), as MemberCluster names are.
func ValidateCluster(name string) error {
	if !pki.ValidDNSName(name) {
		return fmt.Errorf("%w %q: not a DNS-1123 subdomain of at most %d characters", ErrInvalidCluster, name, pki.MaxDNSName)
	}
	return nil
}

// ClusterOf returns the member cluster cert names (see ClusterOrganization), or "" when its
// Subject is not a meshfed one or names none. A meshfed Subject with several units, or with a
// unit that is not a valid cluster name, is an error: it must not be read as some cluster.
func ClusterOf(cert *x509.Certificate) (string, error) {
	if !slices.Contains(cert.Subject.Organization, ClusterOrganization) {
		return "", nil
	}
	units := cert.Subject.OrganizationalUnit
	switch len(units) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", fmt.Errorf("%w: certificate %q names %d clusters, want 1", ErrInvalidCluster, cert.Subject.String(), len(units))
	}
	if err := ValidateCluster(units[0]); err != nil {
		return "", fmt.Errorf("failed to read cluster of certificate %q: %w", cert.Subject.String(), err)
	}
	return units[0], nil
}

// WorkloadOf returns the SPIFFE ID and the cluster cert names.
func WorkloadOf(cert *x509.Certificate) (Workload, error) {
	id, err := FromCertificate(cert)
	if err != nil {
		return Workload{}, err
	}
	cluster, err := ClusterOf(cert)
	if err != nil {
		return Workload{}, err
	}
	return Workload{ID: id, Cluster: cluster}, nil
}
