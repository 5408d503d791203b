package pki

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"
	"time"
)

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func newTestCA(t testing.TB) *CA {
	t.Helper()
	ca, err := NewCA("meshfed store CA", now, 365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func parseCert(t *testing.T, p []byte) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(p)
	if b == nil {
		t.Fatal("no PEM block")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestIssue(t *testing.T) {
	ca := newTestCA(t)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	srv, err := ca.IssueServer("etcd", []string{"127.0.0.1", "::ffff:10.0.0.1", "meshfed-hub.meshfed-system.svc"}, now, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	sc := parseCert(t, srv.CertPEM)
	if _, err := sc.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, DNSName: "meshfed-hub.meshfed-system.svc", KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Fatalf("server certificate does not verify for its DNS name: %v", err)
	}
	if err := sc.VerifyHostname("10.0.0.1"); err != nil {
		t.Fatalf("server certificate lacks its IP SAN: %v", err)
	}
	if _, err := sc.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Fatal("server certificate verifies as a client")
	}
	cli, err := ca.IssueClient("meshfed-waypoint:shop:east", now, 1000*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cc := parseCert(t, cli.CertPEM)
	if cc.Subject.CommonName != "meshfed-waypoint:shop:east" {
		t.Fatalf("client CN = %q", cc.Subject.CommonName)
	}
	if _, err := cc.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("client certificate does not verify as a client: %v", err)
	}
	if _, err := cc.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
		t.Fatal("client certificate verifies as a server")
	}
	if !cc.NotAfter.Equal(ca.Cert.NotAfter) {
		t.Fatalf("client certificate NotAfter %s, want capped at the CA's %s", cc.NotAfter, ca.Cert.NotAfter)
	}
}

func TestIssueRefusesBadNames(t *testing.T) {
	ca := newTestCA(t)
	tests := []struct {
		name string
		run  func() error
	}{
		{"empty CN", func() error { _, err := ca.IssueClient("", now, time.Hour); return err }},
		{"long CN", func() error { _, err := ca.IssueClient(string(make([]byte, 65)), now, time.Hour); return err }},
		{"no SAN", func() error { _, err := ca.IssueServer("etcd", nil, now, time.Hour); return err }},
		{"upper-case SAN", func() error { _, err := ca.IssueServer("etcd", []string{"Hub"}, now, time.Hour); return err }},
		{"zoned IP SAN", func() error { _, err := ca.IssueServer("etcd", []string{"fe80::1%eth0"}, now, time.Hour); return err }},
	}
	for _, tt := range tests {
		if err := tt.run(); !errors.Is(err, ErrInvalidName) {
			t.Errorf("%s: %v, want ErrInvalidName", tt.name, err)
		}
	}
}

func TestParseCA(t *testing.T) {
	ca := newTestCA(t)
	keyPEM, err := ca.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseCA(ca.CertPEM(), keyPEM, now)
	if err != nil || !got.Cert.Equal(ca.Cert) {
		t.Fatalf("ParseCA round trip = %v", err)
	}
	leaf, err := ca.IssueClient("root", now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other := newTestCA(t)
	tests := []struct {
		name      string
		cert, key []byte
		at        time.Time
		want      error
	}{
		{"leaf certificate", leaf.CertPEM, leaf.KeyPEM, now, ErrNotCA},
		{"key of another CA", ca.CertPEM(), mustKey(t, other), now, nil},
		{"expired", ca.CertPEM(), keyPEM, now.Add(400 * 24 * time.Hour), nil},
		{"not PEM", []byte("garbage"), keyPEM, now, nil},
	}
	for _, tt := range tests {
		_, err := ParseCA(tt.cert, tt.key, tt.at)
		if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: ParseCA = %v, want an error (%v)", tt.name, err, tt.want)
		}
	}
}

func mustKey(t *testing.T, ca *CA) []byte {
	t.Helper()
	k, err := ca.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// FuzzParseCA feeds ParseCA what a Secret may hold: anything it accepts must be a CA that signs
// certificates which verify against it.
func FuzzParseCA(f *testing.F) {
	ca := newTestCA(f)
	key, err := ca.KeyPEM()
	if err != nil {
		f.Fatal(err)
	}
	leaf, err := ca.IssueClient("root", now, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ca.CertPEM(), key)
	f.Add(leaf.CertPEM, leaf.KeyPEM)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"), key)
	f.Fuzz(func(t *testing.T, certPEM, keyPEM []byte) {
		got, err := ParseCA(certPEM, keyPEM, now)
		if err != nil {
			return
		}
		if !got.Cert.IsCA {
			t.Fatal("ParseCA accepted a certificate that is not a CA")
		}
		p, err := got.IssueClient("root", now, time.Hour)
		if err != nil {
			return // a CA whose key type x509 cannot sign with
		}
		roots := x509.NewCertPool()
		roots.AddCert(got.Cert)
		if _, err := parseCert(t, p.CertPEM).Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Fatalf("certificate issued by the parsed CA does not verify: %v", err)
		}
	})
}
