package identity

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"time"
)

// clockSkew back-dates NotBefore so that peers with slightly slow clocks accept new certificates.
const clockSkew = 5 * time.Minute

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
// for development; production roots come from cert-manager or SPIRE.
func NewRootCA(trustDomain string, ttl time.Duration) (*CA, error) {
	td, err := ParseID("spiffe://" + trustDomain)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("failed to generate key for CA %s: %w", trustDomain, err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{Organization: []string{"meshfed"}, CommonName: "meshfed root " + trustDomain},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(ttl),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		URIs:                  []*url.URL{td.URL()},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("failed to create certificate for CA %s: %w", trustDomain, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("failed to parse certificate for CA %s: %w", trustDomain, err)
	}
	return &CA{Certificate: cert, Key: key}, nil
}

// LoadCA parses a CA certificate and its private key from PEM.
func LoadCA(certPEM, keyPEM []byte) (*CA, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("failed to load CA key pair %s: %w", "PEM", err)
	}
	signer, ok := pair.PrivateKey.(crypto.Signer)
	if !ok || !pair.Leaf.IsCA {
		return nil, errors.New("failed to load CA key pair: certificate is not a CA or key cannot sign")
	}
	return &CA{Certificate: pair.Leaf, Key: signer}, nil
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

// CertPEM returns the CA certificate as PEM.
func (ca *CA) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Certificate.Raw})
}

// KeyPEM returns the CA private key as PKCS#8 PEM.
func (ca *CA) KeyPEM() ([]byte, error) {
	return marshalKey(ca.Key)
}

// Issue signs a new ECDSA P-256 workload certificate for id, valid for ttl, usable for both
// client and server authentication.
func (ca *CA) Issue(id ID, ttl time.Duration) (*Issued, error) {
	if id.IsZero() {
		return nil, fmt.Errorf("failed to issue certificate: %w: empty ID", ErrInvalidID)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("failed to generate key for %s: %w", id, err)
	}
	now := time.Now()
	notAfter := now.Add(ttl)
	if notAfter.After(ca.Certificate.NotAfter) {
		notAfter = ca.Certificate.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{Organization: []string{"meshfed"}},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		URIs:                  []*url.URL{id.URL()},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Certificate, key.Public(), ca.Key)
	if err != nil {
		return nil, fmt.Errorf("failed to sign certificate for %s: %w", id, err)
	}
	keyPEM, err := marshalKey(key)
	if err != nil {
		return nil, err
	}
	return &Issued{
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  keyPEM,
	}, nil
}

func marshalKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("failed to marshal key %T: %w", key, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func randomSerial() *big.Int {
	// rand.Int only fails if the reader fails, and crypto/rand.Reader never returns an error.
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return serial
}
