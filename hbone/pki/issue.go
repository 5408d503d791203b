package pki

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
	"net/url"
	"time"
)

// ErrInvalidName is wrapped by the errors of Issue* for a name a certificate cannot carry.
var ErrInvalidName = errors.New("invalid certificate name")

// ClusterOrganization marks a certificate whose Subject names a member cluster: a Subject with
// Organization ClusterOrganization carries the cluster as its one OrganizationalUnit, as
// Kubernetes reads a client certificate's groups from its Organization. Every certificate this
// package issues has this Organization.
const ClusterOrganization = "meshfed"

// IssueServer issues a serving certificate for the store, valid from now for validity (at most
// until the CA expires), with one SAN per entry of sans: an IP address or a DNS name.
func (ca *CA) IssueServer(cn string, sans []string, now time.Time, validity time.Duration) (Pair, error) {
	if len(sans) == 0 {
		return Pair{}, fmt.Errorf("failed to issue server certificate %s: no SAN: %w", cn, ErrInvalidName)
	}
	tmpl := &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if err := addSANs(tmpl, sans); err != nil {
		return Pair{}, fmt.Errorf("failed to issue server certificate %s: %w", cn, err)
	}
	if err := validCN(cn); err != nil {
		return Pair{}, err
	}
	tmpl.Subject = pkix.Name{Organization: []string{ClusterOrganization}, CommonName: cn}
	return ca.issue(cn, tmpl, now, validity)
}

// IssueClient issues a client certificate whose Common Name is user (the etcd user it
// authenticates as under --client-cert-auth), valid from now for validity (at most until the CA
// expires).
func (ca *CA) IssueClient(user string, now time.Time, validity time.Duration) (Pair, error) {
	if err := validCN(user); err != nil {
		return Pair{}, err
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{Organization: []string{ClusterOrganization}, CommonName: user},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return ca.issue(user, tmpl, now, validity)
}

// Workload names an HBONE workload certificate: its SPIFFE ID (the one URI SAN) and, for a
// waypoint, its member cluster (the Subject's one OrganizationalUnit, see ClusterOrganization).
// The caller checks the ID's syntax (hbone/identity parses SPIFFE IDs); Cluster must be empty
// or a DNS-1123 subdomain.
type Workload struct {
	ID      *url.URL
	Cluster string
}

// IssueWorkload issues an HBONE workload certificate for w, valid from now for validity (at
// most until the CA expires) and usable for both client and server authentication. Each of
// sans, an IP address or a DNS name, becomes an IP or DNS SAN: meshfed's peers verify the
// SPIFFE ID only, but clients that check the server's address as a host name (Istio's Go
// HBONE dialer does) need the address they dial.
func (ca *CA) IssueWorkload(w Workload, sans []string, now time.Time, validity time.Duration) (Pair, error) {
	if w.ID == nil || w.ID.Scheme != "spiffe" || w.ID.Host == "" {
		return Pair{}, fmt.Errorf("failed to issue workload certificate %v: not a SPIFFE ID: %w", w.ID, ErrInvalidName)
	}
	subject := pkix.Name{Organization: []string{ClusterOrganization}}
	if w.Cluster != "" {
		if !ValidDNSName(w.Cluster) {
			return Pair{}, fmt.Errorf("failed to issue workload certificate %s: cluster %q: %w", w.ID, w.Cluster, ErrInvalidName)
		}
		subject.OrganizationalUnit = []string{w.Cluster}
	}
	tmpl := &x509.Certificate{
		Subject:     subject,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		URIs:        []*url.URL{w.ID},
	}
	if err := addSANs(tmpl, sans); err != nil {
		return Pair{}, fmt.Errorf("failed to issue workload certificate %s: %w", w.ID, err)
	}
	return ca.issue(w.ID.String(), tmpl, now, validity)
}

// addSANs adds each of sans to tmpl as an IP SAN (an address without a zone) or a DNS SAN.
func addSANs(tmpl *x509.Certificate, sans []string) error {
	for _, san := range sans {
		if ip, err := netip.ParseAddr(san); err == nil && ip.Zone() == "" {
			tmpl.IPAddresses = append(tmpl.IPAddresses, net.IP(ip.Unmap().AsSlice()))
			continue
		}
		if !ValidDNSName(san) {
			return fmt.Errorf("SAN %q is neither an IP address nor a lower-case DNS name: %w", san, ErrInvalidName)
		}
		tmpl.DNSNames = append(tmpl.DNSNames, san)
	}
	return nil
}

// validCN checks a Common Name: 1 to 64 bytes (RFC 5280's upper bound).
func validCN(cn string) error {
	if cn == "" || len(cn) > 64 {
		return fmt.Errorf("failed to issue certificate %q: Common Name of 1 to 64 bytes: %w", cn, ErrInvalidName)
	}
	return nil
}

// issue completes tmpl (serial, validity, key usage) and signs a new P-256 key with it; name
// names the certificate in errors.
func (ca *CA) issue(name string, tmpl *x509.Certificate, now time.Time, validity time.Duration) (Pair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Pair{}, fmt.Errorf("failed to generate key for %s: %w", name, err)
	}
	tmpl.SerialNumber = randomSerial()
	tmpl.NotBefore, tmpl.NotAfter = now.Add(-ClockSkew), now.Add(validity)
	if tmpl.NotAfter.After(ca.Cert.NotAfter) {
		tmpl.NotAfter = ca.Cert.NotAfter
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.BasicConstraintsValid = true
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return Pair{}, fmt.Errorf("failed to sign certificate for %s: %w", name, err)
	}
	keyPEM, err := marshalKey(key)
	if err != nil {
		return Pair{}, err
	}
	return Pair{CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), KeyPEM: keyPEM}, nil
}

// MaxDNSName bounds a DNS-1123 subdomain, such as a cluster name (a MemberCluster's name).
const MaxDNSName = 253

// ValidDNSName reports whether s is a DNS-1123 subdomain: dot-separated lower-case labels of
// alphanumerics and '-', each of 1 to 63 characters, at most MaxDNSName in all.
func ValidDNSName(s string) bool {
	if s == "" || len(s) > MaxDNSName {
		return false
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if !validLabel(s[start:i]) {
				return false
			}
			start = i + 1
		}
	}
	return true
}

// validLabel reports whether s is one lower-case DNS-1123 label.
func validLabel(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (c != '-' || i == 0 || i == len(s)-1) {
			return false
		}
	}
	return true
}
