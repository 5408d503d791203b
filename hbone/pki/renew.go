package pki

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"slices"
	"time"
)

// The keys of a credential bundle, the layout of a kubernetes.io/tls Secret with its trust
// bundle (cert-manager writes the same).
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
	return ca.bundle(p), nil
}

// WorkloadBundle issues an HBONE workload certificate for w with sans (IssueWorkload) and
// returns it with its key and the CA certificate, under CertKey, KeyKey and CAKey.
func (ca *CA) WorkloadBundle(w Workload, sans []string, now time.Time, validity time.Duration) (map[string][]byte, error) {
	p, err := ca.IssueWorkload(w, sans, now, validity)
	if err != nil {
		return nil, err
	}
	return ca.bundle(p), nil
}

func (ca *CA) bundle(p Pair) map[string][]byte {
	return map[string][]byte{CertKey: p.CertPEM, KeyKey: p.KeyPEM, CAKey: ca.CertPEM()}
}

// ClientCurrent reports whether bundle (as ClientBundle returns it) still serves user against
// ca at now, and why not: its certificate and key match, the certificate names user, ca signed
// it, its CA bundle is ca's certificate, and it stays valid for longer than renewBefore.
func (ca *CA) ClientCurrent(bundle map[string][]byte, user string, now time.Time, renewBefore time.Duration) (bool, string) {
	return ca.current(bundle, now, renewBefore, x509.ExtKeyUsageClientAuth, func(cert *x509.Certificate) string {
		if cert.Subject.CommonName != user {
			return fmt.Sprintf("issued to %q, not %q", cert.Subject.CommonName, user)
		}
		return ""
	})
}

// WorkloadCurrent reports, like ClientCurrent, whether bundle (as WorkloadBundle returns it)
// still serves w with sans against ca at now: its one URI SAN is w.ID, its Subject names
// w.Cluster, its IP and DNS SANs are sans (in any order), and it verifies for both client and
// server authentication.
func (ca *CA) WorkloadCurrent(bundle map[string][]byte, w Workload, sans []string, now time.Time, renewBefore time.Duration) (bool, string) {
	return ca.current(bundle, now, renewBefore, x509.ExtKeyUsageServerAuth, func(cert *x509.Certificate) string {
		if len(cert.URIs) != 1 || w.ID == nil || cert.URIs[0].String() != w.ID.String() {
			return fmt.Sprintf("names %v, not %v", cert.URIs, w.ID)
		}
		if got := cert.Subject.OrganizationalUnit; !slices.Equal(got, clusterUnits(w.Cluster)) {
			return fmt.Sprintf("names cluster %q, not %q", got, w.Cluster)
		}
		if !sameSANs(cert, sans) {
			return fmt.Sprintf("its SANs %v %v are not %v", cert.IPAddresses, cert.DNSNames, sans)
		}
		if !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
			return "not usable for client authentication"
		}
		return ""
	})
}

// current checks what ClientCurrent and WorkloadCurrent share, then check's reason (empty when
// the certificate names what it should).
func (ca *CA) current(bundle map[string][]byte, now time.Time, renewBefore time.Duration, usage x509.ExtKeyUsage, check func(*x509.Certificate) string) (bool, string) {
	pair, err := tls.X509KeyPair(bundle[CertKey], bundle[KeyKey])
	if err != nil {
		return false, fmt.Sprintf("unusable key pair: %v", err)
	}
	cert := pair.Leaf
	if why := check(cert); why != "" {
		return false, why
	}
	switch {
	case !bytes.Equal(bundle[CAKey], ca.CertPEM()):
		return false, "its CA bundle is not the CA's certificate"
	case !now.Add(renewBefore).Before(cert.NotAfter):
		return false, fmt.Sprintf("expires %s, within the renewal window of %s", cert.NotAfter.Format(time.RFC3339), renewBefore)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: ca.pool(), CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		return false, fmt.Sprintf("does not verify as the CA's certificate: %v", err)
	}
	return true, ""
}

// clusterUnits is the Subject's OrganizationalUnit for cluster.
func clusterUnits(cluster string) []string {
	if cluster == "" {
		return nil
	}
	return []string{cluster}
}

// sameSANs reports whether cert's IP and DNS SANs are exactly sans.
func sameSANs(cert *x509.Certificate, sans []string) bool {
	want := &x509.Certificate{}
	if addSANs(want, sans) != nil || len(want.DNSNames) != len(cert.DNSNames) || len(want.IPAddresses) != len(cert.IPAddresses) {
		return false
	}
	for _, d := range want.DNSNames {
		if !slices.Contains(cert.DNSNames, d) {
			return false
		}
	}
	for _, ip := range want.IPAddresses {
		if !slices.ContainsFunc(cert.IPAddresses, func(g net.IP) bool { return g.Equal(ip) }) {
			return false
		}
	}
	return true
}

// pool is a certificate pool of the CA alone.
func (ca *CA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}
