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
	"net"
	"net/netip"
	"net/url"
	"time"
)

// ErrInvalidSAN is wrapped by Issue's error for an extra SAN it cannot carry.
var ErrInvalidSAN = errors.New("invalid subject alternative name")

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

// Issue signs a new ECDSA P-256 workload certificate for w, valid for ttl (at most until the
// CA expires), usable for both client and server authentication. Its one URI SAN is w.ID; w's
// cluster, if any, goes into the Subject (see ClusterOrganization). Each of sans, an IP
// address or a DNS name, becomes an IP or DNS SAN: meshfed's peers verify the SPIFFE ID
// only, but clients that check the server's address as a host name (Istio's Go HBONE dialer
// does) need the address they dial.
func (ca *CA) Issue(w Workload, ttl time.Duration, sans ...string) (*Issued, error) {
	if w.ID.IsZero() {
		return nil, fmt.Errorf("failed to issue certificate: %w: empty ID", ErrInvalidID)
	}
	tmpl, err := workloadTemplate(w, sans)
	if err != nil {
		return nil, fmt.Errorf("failed to issue certificate for %s: %w", w, err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("failed to generate key for %s: %w", w, err)
	}
	now := time.Now()
	tmpl.NotBefore, tmpl.NotAfter = now.Add(-clockSkew), now.Add(ttl)
	if tmpl.NotAfter.After(ca.Certificate.NotAfter) {
		tmpl.NotAfter = ca.Certificate.NotAfter
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Certificate, key.Public(), ca.Key)
	if err != nil {
		return nil, fmt.Errorf("failed to sign certificate for %s: %w", w, err)
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

// workloadTemplate is the certificate template of w with sans, without validity.
func workloadTemplate(w Workload, sans []string) (*x509.Certificate, error) {
	subject := pkix.Name{Organization: []string{ClusterOrganization}}
	if w.Cluster != "" {
		if err := ValidateCluster(w.Cluster); err != nil {
			return nil, err
		}
		subject.OrganizationalUnit = []string{w.Cluster}
	}
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               subject,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		URIs:                  []*url.URL{w.ID.URL()},
	}
	for _, san := range sans {
		if ip, err := netip.ParseAddr(san); err == nil && ip.Zone() == "" {
			tmpl.IPAddresses = append(tmpl.IPAddresses, net.IP(ip.Unmap().AsSlice()))
			continue
		}
		if !isDNSSubdomain(san) {
			return nil, fmt.Errorf("%w: SAN %q is neither an IP address nor a lower-case DNS name", ErrInvalidSAN, san)
		}
		tmpl.DNSNames = append(tmpl.DNSNames, san)
	}
	return tmpl, nil
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
