package credentials

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// ErrInvalidName is wrapped by the errors of Issue* for a name a certificate cannot carry.
var ErrInvalidName = errors.New("invalid certificate name")

// IssueServer issues a serving certificate for the store, valid from now for validity (at most
// until the CA expires), with one SAN per entry of sans: an IP address or a DNS name.
func (ca *CA) IssueServer(cn string, sans []string, now time.Time, validity time.Duration) (Pair, error) {
	tmpl := &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, san := range sans {
		if ip, err := netip.ParseAddr(san); err == nil && ip.Zone() == "" {
			tmpl.IPAddresses = append(tmpl.IPAddresses, net.IP(ip.Unmap().AsSlice()))
			continue
		}
		if !isDNSName(san) {
			return Pair{}, fmt.Errorf("failed to issue server certificate %s: SAN %q: %w", cn, san, ErrInvalidName)
		}
		tmpl.DNSNames = append(tmpl.DNSNames, san)
	}
	if len(sans) == 0 {
		return Pair{}, fmt.Errorf("failed to issue server certificate %s: no SAN: %w", cn, ErrInvalidName)
	}
	return ca.issue(cn, tmpl, now, validity)
}

// IssueClient issues a client certificate whose Common Name is user (the etcd user it
// authenticates as under --client-cert-auth), valid from now for validity (at most until the CA
// expires).
func (ca *CA) IssueClient(user string, now time.Time, validity time.Duration) (Pair, error) {
	return ca.issue(user, &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, now, validity)
}

// issue completes tmpl (subject, validity, key usage) and signs a new P-256 key with it.
func (ca *CA) issue(cn string, tmpl *x509.Certificate, now time.Time, validity time.Duration) (Pair, error) {
	if cn == "" || len(cn) > 64 {
		return Pair{}, fmt.Errorf("failed to issue certificate %q: Common Name of 1 to 64 bytes: %w", cn, ErrInvalidName)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Pair{}, fmt.Errorf("failed to generate key for %s: %w", cn, err)
	}
	tmpl.SerialNumber = randomSerial()
	tmpl.Subject = pkix.Name{Organization: []string{"meshfed"}, CommonName: cn}
	tmpl.NotBefore, tmpl.NotAfter = now.Add(-clockSkew), now.Add(validity)
	if tmpl.NotAfter.After(ca.Cert.NotAfter) {
		tmpl.NotAfter = ca.Cert.NotAfter
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.BasicConstraintsValid = true
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return Pair{}, fmt.Errorf("failed to sign certificate for %s: %w", cn, err)
	}
	keyPEM, err := marshalKey(key)
	if err != nil {
		return Pair{}, err
	}
	return Pair{CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), KeyPEM: keyPEM}, nil
}

// isDNSName reports whether s is a lower-case DNS name (a DNS-1123 subdomain).
func isDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
		edge := i == 0 || i == len(s)-1
		if !alnum && (edge || (c != '-' && c != '.')) {
			return false
		}
	}
	return true
}
