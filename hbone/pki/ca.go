package pki

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

// ClockSkew back-dates NotBefore so that peers with slightly slow clocks accept a new
// certificate at once: an issued certificate lives its validity plus ClockSkew.
const ClockSkew = 5 * time.Minute

// ErrNotCA is wrapped by ParseCA's error for a key pair that cannot sign certificates.
var ErrNotCA = errors.New("not a certificate authority")

// CA signs certificates: the store's and the waypoints' HBONE certificates.
type CA struct {
	// Cert is the CA certificate; Key its private key.
	Cert *x509.Certificate
	Key  crypto.Signer
}

// Pair is an issued certificate and its private key, PEM-encoded.
type Pair struct {
	CertPEM []byte
	KeyPEM  []byte
}

// NewCA creates a self-signed ECDSA P-256 CA named name, valid from now for validity, with
// uris as its URI SANs (a SPIFFE trust domain's root names spiffe://<trust-domain>).
func NewCA(name string, now time.Time, validity time.Duration, uris ...*url.URL) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("failed to generate key for CA %s: %w", name, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{Organization: []string{"meshfed"}, CommonName: name},
		NotBefore:             now.Add(-ClockSkew),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		URIs:                  uris,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("failed to create certificate for CA %s: %w", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("failed to parse certificate for CA %s: %w", name, err)
	}
	return &CA{Cert: cert, Key: key}, nil
}

// ParseCA reads a CA from a PEM certificate and its PEM private key, as kept in a Secret
// (tls.crt, tls.key). It refuses a pair whose key does not match, a certificate that is not a
// CA allowed to sign certificates, and one expired at now.
func ParseCA(certPEM, keyPEM []byte, now time.Time) (*CA, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("failed to parse CA key pair: %w", err)
	}
	cert := pair.Leaf
	signer, ok := pair.PrivateKey.(crypto.Signer)
	if !ok || !cert.IsCA || !cert.BasicConstraintsValid || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("failed to parse CA %q: %w", cert.Subject.CommonName, ErrNotCA)
	}
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return nil, fmt.Errorf("failed to parse CA %q: valid %s to %s only", cert.Subject.CommonName,
			cert.NotBefore.Format(time.RFC3339), cert.NotAfter.Format(time.RFC3339))
	}
	return &CA{Cert: cert, Key: signer}, nil
}

// CertPEM is the CA certificate as PEM: the bundle clients and servers verify each other with.
func (ca *CA) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// KeyPEM is the CA's private key as PKCS#8 PEM.
func (ca *CA) KeyPEM() ([]byte, error) { return marshalKey(ca.Key) }

func marshalKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("failed to marshal key %T: %w", key, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func randomSerial() *big.Int {
	// rand.Int fails only if the reader fails, and crypto/rand.Reader never returns an error.
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return serial
}
