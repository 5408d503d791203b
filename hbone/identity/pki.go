package identity

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/meshfed/meshfed/hbone/pki"
)

// ErrInvalidSAN is wrapped by Issue's error for an extra SAN it cannot carry (it is
// pki.ErrInvalidName, which the certificate builder wraps).
var ErrInvalidSAN = pki.ErrInvalidName

// CA is a certificate authority that signs workload certificates for one trust domain.
type CA struct {
	// Certificate is the CA certificate.
	Certificate *x509.Certificate
	// Key signs issued certificates.
	Key crypto.Signer
}

// Issued is a workload certificate with its key, both PEM-encoded.
type Issued struct {
	// CertPEM holds the leaf certificate.
	CertPEM []byte
	// KeyPEM holds the PKCS#8 private key.
	KeyPEM []byte
}

// NewRootCA creates a self-signed ECDSA P-256 root for trustDomain valid for ttl. It is meant
// for development; production roots come from the hub, cert-manager or SPIRE.
func NewRootCA(trustDomain string, ttl time.Duration) (*CA, error) {
	td, err := ParseID("spiffe://" + trustDomain)
	if err != nil {
		return nil, err
	}
	ca, err := pki.NewCA("meshfed root "+trustDomain, time.Now(), ttl, td.URL())
	if err != nil {
		return nil, err
	}
	return &CA{Certificate: ca.Cert, Key: ca.Key}, nil
}

// LoadCA parses a CA certificate and its private key from PEM; it refuses a certificate that
// is not a CA allowed to sign certificates, or is not valid now.
func LoadCA(certPEM, keyPEM []byte) (*CA, error) {
	ca, err := pki.ParseCA(certPEM, keyPEM, time.Now())
	if err != nil {
		return nil, fmt.Errorf("failed to load CA key pair: %w", err)
	}
	return &CA{Certificate: ca.Cert, Key: ca.Key}, nil
}

// TrustDomain returns the trust domain in the CA's URI SAN, or "" if it has none.
func (ca *CA) TrustDomain() string {
	for _, u := range ca.Certificate.URIs {
		if u.Scheme == "spiffe" {
			return u.Host
		}
	}
	return ""
}

// signer is ca as the certificate builder's CA.
func (ca *CA) signer() *pki.CA { return &pki.CA{Cert: ca.Certificate, Key: ca.Key} }

// CertPEM returns the CA certificate as PEM.
func (ca *CA) CertPEM() []byte { return ca.signer().CertPEM() }

// KeyPEM returns the CA private key as PKCS#8 PEM.
func (ca *CA) KeyPEM() ([]byte, error) { return ca.signer().KeyPEM() }

// Issue signs a new ECDSA P-256 workload certificate for w, valid for ttl (at most until the
// CA expires), usable for both client and server authentication. Its one URI SAN is w.ID; w's
// cluster, if any, goes into the Subject (see ClusterOrganization). Each of sans, an IP
// address or a DNS name, becomes an IP or DNS SAN: meshfed's peers verify the SPIFFE ID
// only, but clients that check the server's address as a host name (Istio's Go HBONE dialer
// does) need the address they dial. The certificate is built by pki.CA.IssueWorkload, as the
// hub builds the waypoints' certificates.
func (ca *CA) Issue(w Workload, ttl time.Duration, sans ...string) (*Issued, error) {
	if w.ID.IsZero() {
		return nil, fmt.Errorf("failed to issue certificate: %w: empty ID", ErrInvalidID)
	}
	if w.Cluster != "" {
		if err := ValidateCluster(w.Cluster); err != nil {
			return nil, fmt.Errorf("failed to issue certificate for %s: %w", w, err)
		}
	}
	p, err := ca.signer().IssueWorkload(w.PKI(), sans, time.Now(), ttl)
	if err != nil {
		return nil, fmt.Errorf("failed to issue certificate for %s: %w", w, err)
	}
	return &Issued{CertPEM: p.CertPEM, KeyPEM: p.KeyPEM}, nil
}

// PKI is w as the certificate builder names a workload.
func (w Workload) PKI() pki.Workload {
	return pki.Workload{ID: w.ID.URL(), Cluster: w.Cluster}
}
