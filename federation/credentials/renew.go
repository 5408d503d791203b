package credentials

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"
)

// The keys of a client credential bundle, the layout of a kubernetes.io/tls Secret with its
// trust bundle (cert-manager writes the same).
const (
	CertKey = "tls.crt"
	KeyKey  = "tls.key"
	CAKey   = "ca.crt"
)

// ClientBundle issues a client certificate for user (IssueClient) and returns it with its key
// and the CA certificate, under CertKey, KeyKey and CAKey.
func (ca *CA) ClientBundle(user string, now time.Time, validity time.Duration) (map[string][]byte, error) {
	p, err := ca.IssueClient(user, now, validity)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{CertKey: p.CertPEM, KeyKey: p.KeyPEM, CAKey: ca.CertPEM()}, nil
}

// ClientCurrent reports whether bundle (as ClientBundle returns it) still serves user against
// ca at now, and why not: its certificate and key match, the certificate names user, ca signed
// it, its CA bundle is ca's certificate, and it stays valid for longer than renewBefore.
func (ca *CA) ClientCurrent(bundle map[string][]byte, user string, now time.Time, renewBefore time.Duration) (bool, string) {
	pair, err := tls.X509KeyPair(bundle[CertKey], bundle[KeyKey])
	if err != nil {
		return false, fmt.Sprintf("unusable key pair: %v", err)
	}
	cert := pair.Leaf
	switch {
	case cert.Subject.CommonName != user:
		return false, fmt.Sprintf("issued to %q, not %q", cert.Subject.CommonName, user)
	case !bytes.Equal(bundle[CAKey], ca.CertPEM()):
		return false, "its CA bundle is not the CA's certificate"
	case !now.Add(renewBefore).Before(cert.NotAfter):
		return false, fmt.Sprintf("expires %s, within the renewal window of %s", cert.NotAfter.Format(time.RFC3339), renewBefore)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: ca.pool(), CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return false, fmt.Sprintf("does not verify as the CA's client certificate: %v", err)
	}
	return true, ""
}

// pool is a certificate pool of the CA alone.
func (ca *CA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}
