package store

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshfed/meshfed/federation/store/embedded"
)

// testPKI is a throwaway CA with a server certificate for 127.0.0.1 and a client certificate,
// written as PEM files.
type testPKI struct {
	ca, serverCert, serverKey, clientCert, clientKey string

	dir    string
	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey, caCert := issue(t, "meshfed-test-ca", nil, nil, func(c *x509.Certificate) {
		c.IsCA, c.BasicConstraintsValid, c.KeyUsage = true, true, x509.KeyUsageCertSign
	})
	p := testPKI{ca: writePEM(t, dir, "ca.crt", "CERTIFICATE", caCert.Raw), dir: dir, caCert: caCert, caKey: caKey}
	sKey, sCert := issue(t, "etcd", caCert, caKey, func(c *x509.Certificate) {
		c.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	})
	p.serverCert = writePEM(t, dir, "server.crt", "CERTIFICATE", sCert.Raw)
	p.serverKey = writeKey(t, dir, "server.key", sKey)
	cKey, cCert := issue(t, "meshfed-hub", caCert, caKey, func(c *x509.Certificate) {
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	})
	p.clientCert = writePEM(t, dir, "client.crt", "CERTIFICATE", cCert.Raw)
	p.clientKey = writeKey(t, dir, "client.key", cKey)
	return p
}

// client issues a client certificate with Common Name cn and returns a ClientConfig that
// presents it.
func (p testPKI) client(t *testing.T, cn string) ClientConfig {
	t.Helper()
	key, cert := issue(t, cn, p.caCert, p.caKey, func(c *x509.Certificate) {
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	})
	name := strings.NewReplacer("/", "_", ":", "_").Replace(cn)
	return ClientConfig{
		CAFile:   p.ca,
		CertFile: writePEM(t, p.dir, name+".crt", "CERTIFICATE", cert.Raw),
		KeyFile:  writeKey(t, p.dir, name+".key", key),
	}
}

// issue creates a key and a certificate signed by parent (self-signed when parent is nil).
func issue(t *testing.T, cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, edit func(*x509.Certificate)) (*ecdsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	edit(tmpl)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

func writeKey(t *testing.T, dir, name string, key *ecdsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, dir, name, "PRIVATE KEY", der)
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConnectWithMutualTLS(t *testing.T) {
	pki := newTestPKI(t)
	srv, err := embedded.Start(t.Context(), embedded.Config{
		DataDir:      t.TempDir(),
		ClientURL:    loopbackURL("https"),
		PeerURL:      loopbackURL("http"),
		CertFile:     pki.serverCert,
		KeyFile:      pki.serverKey,
		ClientCAFile: pki.ca,
		Logger:       testLogger,
	})
	if err != nil {
		t.Fatalf("embedded.Start with TLS: %v", err)
	}
	t.Cleanup(srv.Close)
	tests := []struct {
		name   string
		cfg    ClientConfig
		wantOK bool
	}{
		{"client certificate", ClientConfig{CAFile: pki.ca, CertFile: pki.clientCert, KeyFile: pki.clientKey}, true},
		{"no client certificate", ClientConfig{CAFile: pki.ca}, false},
		{"unknown CA", ClientConfig{CAFile: pki.clientCert, CertFile: pki.clientCert, KeyFile: pki.clientKey}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Endpoints, tt.cfg.DialTimeout, tt.cfg.Logger = srv.Endpoints(), 2*time.Second, testLogger
			c, err := Connect(t.Context(), tt.cfg)
			if (err == nil) != tt.wantOK {
				t.Fatalf("Connect = %v, want success %v", err, tt.wantOK)
			}
			if err != nil {
				return
			}
			defer c.Close()
			w := NewWriter(c, WriterOptions{Identity: "tls", Logger: testLogger})
			if err := w.Campaign(t.Context()); err != nil {
				t.Fatalf("Campaign over TLS: %v", err)
			}
			if _, err := w.Put(t.Context(), clusterRecord("east")); err != nil {
				t.Fatalf("Put over TLS: %v", err)
			}
		})
	}
}

func TestConnectRejectsBadTLSFiles(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  ClientConfig
	}{
		{"missing CA", ClientConfig{CAFile: filepath.Join(dir, "absent.crt")}},
		{"CA without PEM", ClientConfig{CAFile: notPEM}},
		{"missing key pair", ClientConfig{CertFile: notPEM, KeyFile: notPEM}},
		{"missing password file", ClientConfig{Username: "u", PasswordFile: filepath.Join(dir, "absent")}},
		{"password over http", ClientConfig{Username: "u", Password: "p", Endpoints: []string{"http://127.0.0.1:1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.cfg.Endpoints == nil {
				tt.cfg.Endpoints = []string{"https://127.0.0.1:1"}
			}
			if c, err := Connect(t.Context(), tt.cfg); err == nil {
				_ = c.Close()
				t.Fatal("Connect accepted bad TLS files")
			}
		})
	}
}
