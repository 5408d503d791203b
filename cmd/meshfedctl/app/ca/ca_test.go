package ca

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/hbone/identity"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := NewCommand(cli.Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err := cmd.ExecuteContext(t.Context())
	return out.String(), err
}

func TestInitAndIssue(t *testing.T) {
	caDir, outDir := filepath.Join(t.TempDir(), "ca"), filepath.Join(t.TempDir(), "web")
	if _, err := run(t, "init", "--dir", caDir, "--trust-domain", "example.org"); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "init", "--dir", caDir, "--trust-domain", "example.org"); err == nil {
		t.Fatal("second init overwrote the CA without --force")
	}
	const id = "spiffe://example.org/ns/shop/sa/web"
	out, err := run(t, "issue", "--ca-dir", caDir, "--spiffe-id", id, "--out", outDir, "--ttl", "2h")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, id) {
		t.Fatalf("output %q does not name %s", out, id)
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(outDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	pair, err := tls.X509KeyPair(read("tls.crt"), read("tls.key"))
	if err != nil {
		t.Fatal(err)
	}
	leaf := pair.Leaf
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(read("ca.crt")) {
		t.Fatal("ca.crt holds no certificate")
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("issued certificate does not chain to the root: %v", err)
	}
	if len(leaf.URIs) != 1 || leaf.URIs[0].String() != id {
		t.Fatalf("URI SANs = %v, want [%s]", leaf.URIs, id)
	}
	if pub, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Fatalf("key %T, want ECDSA P-256", leaf.PublicKey)
	}
	if ttl := time.Until(leaf.NotAfter); ttl > 2*time.Hour || ttl < 110*time.Minute {
		t.Fatalf("certificate valid for %v, want 2h", ttl)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Fatalf("issued certificate is not valid for server authentication: %v", err)
	}
	if _, err := identity.NewMaterial(read("tls.crt"), read("tls.key"), read("ca.crt")); err != nil {
		t.Fatalf("files do not load as HBONE credentials: %v", err)
	}
}

// TestIssueCluster issues a waypoint certificate naming its cluster, with an IP SAN for
// clients that check the server's address.
func TestIssueCluster(t *testing.T) {
	caDir, outDir := filepath.Join(t.TempDir(), "ca"), filepath.Join(t.TempDir(), "wp")
	if _, err := run(t, "init", "--dir", caDir, "--trust-domain", "example.org"); err != nil {
		t.Fatal(err)
	}
	const id = "spiffe://example.org/ns/shop/sa/meshfed-waypoint"
	out, err := run(t, "issue", "--ca-dir", caDir, "--spiffe-id", id, "--cluster", "east-1", "--san", "10.0.0.9", "--san", "wp.example", "--out", outDir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "east-1") {
		t.Fatalf("output %q does not name the cluster", out)
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(outDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	m, err := identity.NewMaterial(read("tls.crt"), read("tls.key"), read("ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if m.ID.String() != id || m.Cluster != "east-1" {
		t.Fatalf("certificate names %s, want %s in cluster east-1", m.Workload, id)
	}
	if err := m.Certificate.Leaf.VerifyHostname("10.0.0.9"); err != nil {
		t.Fatalf("IP SAN: %v", err)
	}
	if err := m.Certificate.Leaf.VerifyHostname("wp.example"); err != nil {
		t.Fatalf("DNS SAN: %v", err)
	}
	for _, args := range [][]string{{"--cluster", "East_1"}, {"--san", "not a name"}} {
		all := append([]string{"issue", "--ca-dir", caDir, "--spiffe-id", id, "--out", t.TempDir()}, args...)
		if _, err := run(t, all...); err == nil {
			t.Errorf("issue %v succeeded, want error", args)
		}
	}
}

func TestIssueRejects(t *testing.T) {
	caDir := filepath.Join(t.TempDir(), "ca")
	if _, err := run(t, "init", "--dir", caDir, "--trust-domain", "example.org"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
	}{
		{"missing id", []string{"issue", "--ca-dir", caDir, "--out", t.TempDir()}},
		{"bad id", []string{"issue", "--ca-dir", caDir, "--spiffe-id", "http://x", "--out", t.TempDir()}},
		{"other trust domain", []string{"issue", "--ca-dir", caDir, "--spiffe-id", "spiffe://other.org/ns/a/sa/b", "--out", t.TempDir()}},
		{"no CA", []string{"issue", "--ca-dir", t.TempDir(), "--spiffe-id", "spiffe://example.org/ns/a/sa/b", "--out", t.TempDir()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := run(t, tt.args...); err == nil {
				t.Fatal("issue succeeded, want error")
			}
		})
	}
}
