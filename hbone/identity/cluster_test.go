package identity

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestValidateCluster(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"east-1", true},
		{"a", true},
		{"eu.west-1.prod", true},
		{strings.Repeat("a", 63), true},
		{strings.Repeat("a.", 126) + "a", true},
		{"", false},
		{"East-1", false},
		{"-east", false},
		{"east-", false},
		{"east..1", false},
		{".east", false},
		{"east_1", false},
		{"east 1", false},
		{"east/1", false},
		{strings.Repeat("a", 64), false},
		{strings.Repeat("a.", 127) + "a", false},
	}
	for _, tt := range tests {
		err := ValidateCluster(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateCluster(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidCluster) {
			t.Errorf("ValidateCluster(%q) = %v, want ErrInvalidCluster", tt.in, err)
		}
	}
}

// TestIssueNamesCluster checks that an issued certificate carries its workload, cluster and
// extra SANs, and that Material and WorkloadOf read the cluster back.
func TestIssueNamesCluster(t *testing.T) {
	ca, err := NewRootCA("example.org", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := WorkloadID("example.org", "shop", "meshfed-waypoint")
	w := Workload{ID: id, Cluster: "east-1"}
	issued, err := ca.Issue(w, time.Hour, "10.0.0.7", "fd00::7", "waypoint.shop.example")
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMaterial(issued.CertPEM, issued.KeyPEM, ca.CertPEM())
	if err != nil {
		t.Fatal(err)
	}
	if m.Workload != w {
		t.Fatalf("Material names %s, want %s", m.Workload, w)
	}
	leaf := m.Certificate.Leaf
	if len(leaf.URIs) != 1 || leaf.URIs[0].String() != id.String() {
		t.Fatalf("URI SANs %v, want exactly %s", leaf.URIs, id)
	}
	if got := leaf.Subject.OrganizationalUnit; !slices.Equal(got, []string{"east-1"}) {
		t.Fatalf("Subject units %v, want [east-1]", got)
	}
	if len(leaf.IPAddresses) != 2 || leaf.IPAddresses[0].String() != "10.0.0.7" || leaf.IPAddresses[1].String() != "fd00::7" {
		t.Fatalf("IP SANs %v", leaf.IPAddresses)
	}
	if !slices.Equal(leaf.DNSNames, []string{"waypoint.shop.example"}) {
		t.Fatalf("DNS SANs %v", leaf.DNSNames)
	}
	if err := leaf.VerifyHostname("10.0.0.7"); err != nil {
		t.Fatalf("a host-name check of the IP SAN fails: %v", err)
	}
	if !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth) || !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
		t.Fatalf("extended key usages %v, want serverAuth and clientAuth", leaf.ExtKeyUsage)
	}
	plain, err := ca.Issue(Workload{ID: id}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := NewMaterial(plain.CertPEM, plain.KeyPEM, ca.CertPEM())
	if err != nil || pm.Cluster != "" {
		t.Fatalf("certificate without cluster: cluster %q, %v", pm.Cluster, err)
	}
	for _, bad := range []struct {
		w    Workload
		sans []string
		want error
	}{
		{Workload{ID: id, Cluster: "East"}, nil, ErrInvalidCluster},
		{Workload{ID: id, Cluster: "a/b"}, nil, ErrInvalidCluster},
		{Workload{ID: id}, []string{"fe80::1%eth0"}, ErrInvalidSAN},
		{Workload{ID: id}, []string{"*.example"}, ErrInvalidSAN},
		{Workload{Cluster: "east"}, nil, ErrInvalidID},
	} {
		if _, err := ca.Issue(bad.w, time.Hour, bad.sans...); !errors.Is(err, bad.want) {
			t.Errorf("Issue(%+v, %q) = %v, want %v", bad.w, bad.sans, err, bad.want)
		}
	}
}

// testCert signs a certificate from tmpl with a key of its own under ca; tmpl gets a serial and
// a validity if it has none.
func testCert(t testing.TB, ca *CA, tmpl *x509.Certificate) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.SerialNumber == nil {
		tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Certificate, key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestClusterOf(t *testing.T) {
	ca, err := NewRootCA("example.org", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		subject pkix.Name
		want    string
		wantErr bool
	}{
		{"meshfed subject", pkix.Name{Organization: []string{"meshfed"}, OrganizationalUnit: []string{"west-2"}}, "west-2", false},
		{"no cluster", pkix.Name{Organization: []string{"meshfed"}}, "", false},
		{"other organization", pkix.Name{Organization: []string{"acme"}, OrganizationalUnit: []string{"west-2"}}, "", false},
		{"empty subject", pkix.Name{}, "", false},
		{"meshfed among others", pkix.Name{Organization: []string{"acme", "meshfed"}, OrganizationalUnit: []string{"west-2"}}, "west-2", false},
		{"two clusters", pkix.Name{Organization: []string{"meshfed"}, OrganizationalUnit: []string{"west-2", "east-1"}}, "", true},
		{"invalid cluster", pkix.Name{Organization: []string{"meshfed"}, OrganizationalUnit: []string{"West 2"}}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert := testCert(t, ca, &x509.Certificate{Subject: tt.subject})
			got, err := ClusterOf(cert)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ClusterOf = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalidCluster) {
				t.Fatalf("error %v, want ErrInvalidCluster", err)
			}
		})
	}
}

// TestVerifyChainExtKeyUsage is the regression test for certificates accepted for a usage
// their extended key usage excludes: a serverAuth-only certificate must not authenticate a
// client, nor a clientAuth-only one a server.
func TestVerifyChainExtKeyUsage(t *testing.T) {
	ca, err := NewRootCA("example.org", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Certificate)
	id, _ := WorkloadID("example.org", "shop", "web")
	server, client := x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth
	tests := []struct {
		name     string
		ekus     []x509.ExtKeyUsage
		asServer bool
		asClient bool
	}{
		{"server only", []x509.ExtKeyUsage{server}, true, false},
		{"client only", []x509.ExtKeyUsage{client}, false, true},
		{"both", []x509.ExtKeyUsage{server, client}, true, true},
		{"no extension", nil, true, true},
		{"code signing", []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert := testCert(t, ca, &x509.Certificate{URIs: []*url.URL{id.URL()}, ExtKeyUsage: tt.ekus, KeyUsage: x509.KeyUsageDigitalSignature})
			for _, c := range []struct {
				usage x509.ExtKeyUsage
				want  bool
			}{{server, tt.asServer}, {client, tt.asClient}} {
				_, err := VerifyChain([][]byte{cert.Raw}, roots, "example.org", c.usage)
				if (err == nil) != c.want {
					t.Errorf("VerifyChain for usage %v = %v, want accepted=%v", c.usage, err, c.want)
				}
			}
		})
	}
}

// FuzzWorkloadOf signs certificates with arbitrary Subject fields and URI SANs and checks the
// identity read from them: never a panic; an accepted SPIFFE ID is the one URI given; a
// cluster is read only from a meshfed Subject with exactly one unit, which is a valid name.
func FuzzWorkloadOf(f *testing.F) {
	ca, err := NewRootCA("example.org", time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("meshfed", "east-1", "", "spiffe://example.org/ns/shop/sa/meshfed-waypoint", "")
	f.Add("meshfed", "east-1", "west-1", "spiffe://example.org/ns/shop/sa/meshfed-waypoint", "")
	f.Add("acme", "east-1", "", "spiffe://example.org/ns/a/sa/b", "spiffe://example.org/ns/c/sa/d")
	f.Add("meshfed", "East 1", "", "https://example.org/x", "spiffe://example.org/x")
	f.Fuzz(func(t *testing.T, org, unit1, unit2, uri1, uri2 string) {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour)}
		if org != "" {
			tmpl.Subject.Organization = []string{org}
		}
		for _, u := range []string{unit1, unit2} {
			if u != "" {
				tmpl.Subject.OrganizationalUnit = append(tmpl.Subject.OrganizationalUnit, u)
			}
		}
		for _, s := range []string{uri1, uri2} {
			if u, err := url.Parse(s); err == nil && s != "" {
				tmpl.URIs = append(tmpl.URIs, u)
			}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Certificate, key.Public(), ca.Key)
		if err != nil {
			return
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return
		}
		w, err := WorkloadOf(cert)
		if err != nil {
			return
		}
		var spiffe []string
		for _, u := range cert.URIs {
			if u.Scheme == "spiffe" {
				spiffe = append(spiffe, u.String())
			}
		}
		if len(spiffe) != 1 || w.ID.String() != spiffe[0] {
			t.Fatalf("ID %s from SPIFFE URI SANs %q", w.ID, spiffe)
		}
		units := cert.Subject.OrganizationalUnit
		meshfed := slices.Contains(cert.Subject.Organization, ClusterOrganization)
		switch {
		case w.Cluster == "":
			if meshfed && len(units) > 0 {
				t.Fatalf("no cluster read from meshfed units %q", units)
			}
		case !meshfed || len(units) != 1 || units[0] != w.Cluster || ValidateCluster(w.Cluster) != nil:
			t.Fatalf("cluster %q read from organization %q units %q", w.Cluster, cert.Subject.Organization, units)
		}
	})
}

// FuzzParseCertificate feeds arbitrary DER to the parsing that decides a peer's identity.
func FuzzParseCertificate(f *testing.F) {
	ca, err := NewRootCA("example.org", time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	id, _ := WorkloadID("example.org", "shop", "meshfed-waypoint")
	issued, err := ca.Issue(Workload{ID: id, Cluster: "east-1"}, time.Hour, "10.0.0.1")
	if err != nil {
		f.Fatal(err)
	}
	m, err := NewMaterial(issued.CertPEM, issued.KeyPEM, ca.CertPEM())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(m.Certificate.Leaf.Raw)
	f.Add(ca.Certificate.Raw)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Certificate)
	f.Fuzz(func(t *testing.T, der []byte) {
		w, err := VerifyChain([][]byte{der}, roots, "example.org", x509.ExtKeyUsageClientAuth)
		if err != nil {
			return
		}
		if w.ID.TrustDomain() != "example.org" || (w.Cluster != "" && ValidateCluster(w.Cluster) != nil) {
			t.Fatalf("accepted %s", w)
		}
	})
}
