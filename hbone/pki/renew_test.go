package pki

import (
	"crypto/x509"
	"errors"
	"maps"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestClientCurrent(t *testing.T) {
	ca := newTestCA(t)
	other := newTestCA(t)
	const user = "meshfed-waypoint:shop:east"
	const validity, window = 30 * 24 * time.Hour, 10 * 24 * time.Hour
	fresh, err := ca.ClientBundle(user, now, validity)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.ClientBundle(user, now, validity)
	if err != nil {
		t.Fatal(err)
	}
	server, err := ca.IssueServer("etcd", []string{"127.0.0.1"}, now, validity)
	if err != nil {
		t.Fatal(err)
	}
	with := func(k string, v []byte) map[string][]byte {
		b := maps.Clone(fresh)
		b[k] = v
		return b
	}
	tests := []struct {
		name   string
		bundle map[string][]byte
		user   string
		at     time.Time
		want   bool
		why    string
	}{
		{"fresh", fresh, user, now, true, ""},
		{"just before the window", fresh, user, now.Add(validity - window - time.Minute), true, ""},
		{"in the renewal window", fresh, user, now.Add(validity - window + time.Minute), false, "renewal window"},
		{"expired", fresh, user, now.Add(validity + time.Hour), false, "renewal window"},
		{"another user", fresh, "meshfed-waypoint:shop:west", now, false, "not \"meshfed-waypoint:shop:west\""},
		{"another CA", foreign, user, now, false, "CA bundle"},
		{"another CA's certificate with this CA's bundle", with(CAKey, ca.CertPEM()), user, now, true, ""},
		{"foreign certificate, this CA's bundle", map[string][]byte{CertKey: foreign[CertKey], KeyKey: foreign[KeyKey], CAKey: ca.CertPEM()}, user, now, false, "does not verify"},
		{"server certificate", map[string][]byte{CertKey: server.CertPEM, KeyKey: server.KeyPEM, CAKey: ca.CertPEM()}, "etcd", now, false, "does not verify"},
		{"key of another certificate", with(KeyKey, foreign[KeyKey]), user, now, false, "key pair"},
		{"empty", map[string][]byte{}, user, now, false, "key pair"},
		{"garbage", with(CertKey, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")), user, now, false, "key pair"},
	}
	for _, tt := range tests {
		got, why := ca.ClientCurrent(tt.bundle, tt.user, tt.at, window)
		if got != tt.want || !strings.Contains(why, tt.why) || (got && why != "") {
			t.Errorf("%s: ClientCurrent = %v, %q; want %v, a reason with %q", tt.name, got, why, tt.want, tt.why)
		}
	}
}

// FuzzClientCurrent feeds ClientCurrent what a Secret may hold: it never panics, and a bundle
// it accepts holds a certificate of user that this CA signed.
func FuzzClientCurrent(f *testing.F) {
	ca := newTestCA(f)
	const user = "meshfed-waypoint:shop:east"
	b, err := ca.ClientBundle(user, now, 30*24*time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b[CertKey], b[KeyKey], b[CAKey])
	f.Add([]byte("x"), []byte{}, b[CAKey])
	f.Fuzz(func(t *testing.T, cert, key, bundle []byte) {
		ok, why := ca.ClientCurrent(map[string][]byte{CertKey: cert, KeyKey: key, CAKey: bundle}, user, now, time.Hour)
		if !ok {
			if why == "" {
				t.Fatal("refused without a reason")
			}
			return
		}
		c := parseCert(t, cert)
		if c.Subject.CommonName != user || c.CheckSignatureFrom(ca.Cert) != nil {
			t.Fatalf("accepted a certificate of %q not signed by the CA", c.Subject.CommonName)
		}
	})
}

func TestWorkloadCurrent(t *testing.T) {
	ca := newTestCA(t)
	id, _ := url.Parse("spiffe://cluster.local/ns/shop/sa/meshfed-waypoint")
	w := Workload{ID: id, Cluster: "east"}
	sans := []string{"10.0.0.7", "waypoint.example"}
	const validity, window = 24 * time.Hour, 8 * time.Hour
	fresh, err := ca.WorkloadBundle(w, sans, now, validity)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := url.Parse("spiffe://cluster.local/ns/shop/sa/other")
	tests := []struct {
		name string
		w    Workload
		sans []string
		at   time.Time
		want bool
		why  string
	}{
		{"fresh", w, sans, now, true, ""},
		{"SANs in another order", w, []string{"waypoint.example", "10.0.0.7"}, now, true, ""},
		{"in the renewal window", w, sans, now.Add(validity - window + time.Minute), false, "renewal window"},
		{"another ID", Workload{ID: other, Cluster: "east"}, sans, now, false, "names"},
		{"another cluster", Workload{ID: id, Cluster: "west"}, sans, now, false, "cluster"},
		{"no cluster", Workload{ID: id}, sans, now, false, "cluster"},
		{"another address", w, []string{"10.0.0.8", "waypoint.example"}, now, false, "SANs"},
		{"fewer SANs", w, sans[:1], now, false, "SANs"},
	}
	for _, tt := range tests {
		got, why := ca.WorkloadCurrent(fresh, tt.w, tt.sans, tt.at, window)
		if got != tt.want || !strings.Contains(why, tt.why) {
			t.Errorf("%s: WorkloadCurrent = %v, %q; want %v, a reason with %q", tt.name, got, why, tt.want, tt.why)
		}
	}
	c := parseCert(t, fresh[CertKey])
	if len(c.URIs) != 1 || c.URIs[0].String() != id.String() || c.Subject.Organization[0] != ClusterOrganization || c.Subject.OrganizationalUnit[0] != "east" {
		t.Fatalf("workload certificate names %v %v", c.URIs, c.Subject)
	}
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth} {
		if _, err := c.Verify(x509.VerifyOptions{Roots: ca.pool(), CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
			t.Fatalf("workload certificate does not verify for %v: %v", usage, err)
		}
	}
	if _, err := ca.IssueWorkload(Workload{ID: id, Cluster: "East"}, nil, now, time.Hour); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("upper-case cluster: %v, want ErrInvalidName", err)
	}
	if _, err := ca.IssueWorkload(Workload{ID: &url.URL{Scheme: "https", Host: "x"}}, nil, now, time.Hour); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("non-SPIFFE ID: %v, want ErrInvalidName", err)
	}
}

// FuzzWorkloadCurrent feeds WorkloadCurrent what a member's Secret may hold: it never panics,
// and a bundle it accepts holds a certificate this CA signed for exactly the workload.
func FuzzWorkloadCurrent(f *testing.F) {
	ca := newTestCA(f)
	id, _ := url.Parse("spiffe://cluster.local/ns/shop/sa/meshfed-waypoint")
	w := Workload{ID: id, Cluster: "east"}
	b, err := ca.WorkloadBundle(w, []string{"10.0.0.7"}, now, 24*time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b[CertKey], b[KeyKey], b[CAKey])
	f.Add([]byte("x"), []byte{}, b[CAKey])
	f.Fuzz(func(t *testing.T, cert, key, bundle []byte) {
		ok, why := ca.WorkloadCurrent(map[string][]byte{CertKey: cert, KeyKey: key, CAKey: bundle}, w, []string{"10.0.0.7"}, now, time.Hour)
		if !ok {
			if why == "" {
				t.Fatal("refused without a reason")
			}
			return
		}
		c := parseCert(t, cert)
		if len(c.URIs) != 1 || c.URIs[0].String() != id.String() || c.CheckSignatureFrom(ca.Cert) != nil {
			t.Fatalf("accepted a certificate of %v not signed by the CA for %s", c.URIs, id)
		}
	})
}
