package identity

import (
	"crypto/x509"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/meshfed/meshfed/hbone/pki"
)

func TestIssueAndVerify(t *testing.T) {
	ca, err := NewRootCA("example.org", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewRootCA("example.org", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := WorkloadID("example.org", "ns", "sa")
	foreign, _ := WorkloadID("other.org", "ns", "sa")
	issued, err := ca.Issue(Workload{ID: id}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMaterial(issued.CertPEM, issued.KeyPEM, ca.CertPEM())
	if err != nil {
		t.Fatal(err)
	}
	otherMat, err := NewMaterial(issued.CertPEM, issued.KeyPEM, other.CertPEM())
	if err != nil {
		t.Fatal(err)
	}
	foreignIssued, err := ca.Issue(Workload{ID: foreign}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	foreignMat, err := NewMaterial(foreignIssued.CertPEM, foreignIssued.KeyPEM, ca.CertPEM())
	if err != nil {
		t.Fatal(err)
	}
	raw := [][]byte{m.Certificate.Leaf.Raw}
	tests := []struct {
		name    string
		chain   [][]byte
		mat     *Material
		wantErr bool
	}{
		{"same CA", raw, m, false},
		{"other CA", raw, otherMat, true},
		{"other trust domain", [][]byte{foreignMat.Certificate.Leaf.Raw}, m, true},
		{"no certificate", nil, m, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := VerifyChain(tt.chain, tt.mat.Roots, "example.org", x509.ExtKeyUsageClientAuth)
			if (err != nil) != tt.wantErr {
				t.Fatalf("VerifyChain error = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && got.ID != id {
				t.Fatalf("VerifyChain = %s, want %s", got, id)
			}
		})
	}
	var mm *MismatchError
	if _, err := VerifyChain([][]byte{foreignMat.Certificate.Leaf.Raw}, m.Roots, "example.org", x509.ExtKeyUsageServerAuth); !errors.As(err, &mm) {
		t.Fatalf("foreign trust domain error = %v, want *MismatchError", err)
	}
}

func TestFileSourceReload(t *testing.T) {
	ca, err := NewRootCA("example.org", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(sa string) ID {
		id, _ := WorkloadID("example.org", "ns", sa)
		issued, err := ca.Issue(Workload{ID: id}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteFiles(dir, issued, ca.CertPEM()); err != nil {
			t.Fatal(err)
		}
		return id
	}
	first := write("a")
	src, err := NewFileSource(filepath.Join(dir, CertFileName), filepath.Join(dir, KeyFileName), filepath.Join(dir, CAFileName), nil)
	if err != nil {
		t.Fatal(err)
	}
	if changed, err := src.Reload(); err != nil || changed {
		t.Fatalf("Reload without change = %v, %v", changed, err)
	}
	second := write("b")
	if changed, err := src.Reload(); err != nil || !changed || src.Material().ID != second {
		t.Fatalf("Reload after rotation = %v, %v, id %s (was %s)", changed, err, src.Material().ID, first)
	}
	// A broken key keeps the previous material.
	if err := os.WriteFile(filepath.Join(dir, KeyFileName), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Reload(); err == nil || src.Material().ID != second {
		t.Fatalf("Reload of broken files = %v, id %s; want error and %s kept", err, src.Material().ID, second)
	}
}

// TestMaterialOfHubCertificate loads a certificate built as the hub builds a waypoint's (pki
// directly, the SPIFFE ID as a URL, an IP SAN of its HBONE address): hbone accepts it as the
// namespace's waypoint in its cluster, for both directions of a tunnel.
func TestMaterialOfHubCertificate(t *testing.T) {
	ca, err := pki.NewCA("hub CA", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	id := &url.URL{Scheme: "spiffe", Host: "cluster.local", Path: "/ns/shop/sa/meshfed-waypoint"}
	b, err := ca.WorkloadBundle(pki.Workload{ID: id, Cluster: "east-1"}, []string{"203.0.113.7"}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMaterial(b[pki.CertKey], b[pki.KeyKey], b[pki.CAKey])
	if err != nil {
		t.Fatal(err)
	}
	want, _ := WorkloadID("cluster.local", "shop", "meshfed-waypoint")
	if m.ID != want || m.Cluster != "east-1" {
		t.Fatalf("Material names %s, want %s in east-1", m.Workload, want)
	}
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth} {
		if _, err := VerifyChain([][]byte{m.Certificate.Leaf.Raw}, m.Roots, "cluster.local", usage); err != nil {
			t.Fatalf("VerifyChain(%v) = %v", usage, err)
		}
	}
}
