package identity

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// Material is one consistent set of credentials: a workload certificate with its key, the
// workload it names (SPIFFE ID and cluster) and the roots that peers' certificates must chain
// to.
type Material struct {
	// Certificate is presented to peers; Leaf is always set.
	Certificate tls.Certificate
	// Workload is the SPIFFE ID and the cluster Certificate names.
	Workload
	// Roots verifies peers' certificates.
	Roots *x509.CertPool
}

// Source supplies the current Material. Implementations must be safe for concurrent use;
// TLS handshakes call Material once each, so a rotation applies to new connections only.
type Source interface {
	Material() *Material
}

// NewMaterial builds Material from PEM-encoded certificate chain, key and CA bundle.
func NewMaterial(certPEM, keyPEM, caPEM []byte) (*Material, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("failed to load key pair %s: %w", "PEM", err)
	}
	w, err := WorkloadOf(pair.Leaf)
	if err != nil {
		return nil, fmt.Errorf("failed to read identity of certificate %s: %w", pair.Leaf.Subject, err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("failed to load CA bundle: no certificate found")
	}
	return &Material{Certificate: pair, Workload: w, Roots: roots}, nil
}

// StaticSource is a Source whose Material never changes.
type StaticSource struct{ m *Material }

// NewStaticSource returns a Source that always returns m.
func NewStaticSource(m *Material) StaticSource { return StaticSource{m: m} }

// Material returns the fixed Material.
func (s StaticSource) Material() *Material { return s.m }
