package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/hbone/identity"
	"github.com/meshfed/meshfed/internal/testport"
)

// testCA issues SPIFFE certificates of cluster.local into files.
type testCA struct{ ca *identity.CA }

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	ca, err := identity.NewRootCA("cluster.local", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{ca: ca}
}

// files writes the certificate of ns/sa in cluster east into a new directory and returns it.
func (c *testCA) files(t *testing.T, ns, sa string) string {
	t.Helper()
	id, err := identity.WorkloadID("cluster.local", ns, sa)
	if err != nil {
		t.Fatal(err)
	}
	issued, err := c.ca.Issue(identity.Workload{ID: id, Cluster: "east"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), ns+"-"+sa)
	if err := identity.WriteFiles(dir, issued, c.ca.CertPEM()); err != nil {
		t.Fatal(err)
	}
	return dir
}

func (c *testCA) source(t *testing.T, ns, sa string) identity.Source {
	t.Helper()
	dir := c.files(t, ns, sa)
	src, err := identity.NewFileSource(filepath.Join(dir, identity.CertFileName), filepath.Join(dir, identity.KeyFileName), filepath.Join(dir, identity.CAFileName), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// freeHBONEAddr returns a loopback address whose port is free for TCP and UDP and that no
// other socket takes before the waypoint binds it (internal/testport).
func freeHBONEAddr(t *testing.T) string {
	t.Helper()
	return testport.AddrTCPAndUDP(t, "127.0.0.1")
}

// TestRunServesHBONE runs the assembled waypoint with certificate files: its inbound server
// opens a tunnel for the namespace's waypoint identity to a ready local endpoint, refuses a
// caller of another namespace without reaching the backend, and /debug/endpoints says HBONE is
// on.
func TestRunServesHBONE(t *testing.T) {
	emb := startStore(t)
	backend := echoBackend(t, "127.0.0.3")
	writeService(t, emb.Endpoints(), backend)

	ca := newTestCA(t)
	dir := ca.files(t, "shop", "meshfed-waypoint")
	env := map[string]string{
		"POD_NAMESPACE": "shop", "MESHFED_CLUSTER": "east", "MESHFED_NETWORK": "net-a",
		"MESHFED_CERT_FILE":       filepath.Join(dir, identity.CertFileName),
		"MESHFED_KEY_FILE":        filepath.Join(dir, identity.KeyFileName),
		"MESHFED_CA_FILE":         filepath.Join(dir, identity.CAFileName),
		"MESHFED_HBONE_ADDRESS":   freeHBONEAddr(t),
		"MESHFED_HBONE_TRANSPORT": "h3",
	}
	o := DefaultOptions(func(k string) string { return env[k] })
	o.EtcdEndpoints, o.ListenHost, o.AllowLoopbackEndpoints = emb.Endpoints(), "127.0.0.1", true
	admin := runReady(t, o)

	target := netip.MustParseAddrPort(net.JoinHostPort(backend.host, strconv.Itoa(backend.port)))
	tunnel := func(ns string, proto hbone.Protocol) (net.Conn, error) {
		d, err := hbone.NewDialer(hbone.Options{Source: ca.source(t, ns, "meshfed-waypoint"), Locality: hbone.Locality{Cluster: "east", Namespace: ns}, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = d.Close() })
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		t.Cleanup(cancel)
		return d.Dial(ctx, hbone.Peer{Address: o.HBONEAddress, Protocol: proto}, target, hbone.Metadata{})
	}
	var c net.Conn
	var err error
	waitFor(t, "an HBONE tunnel to the ready endpoint", func() bool {
		if c, err = tunnel("shop", hbone.ProtocolH3Only); err != nil {
			t.Logf("tunnel: %v", err)
		}
		return err == nil
	})
	defer c.Close()
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	_ = c.(interface{ CloseWrite() error }).CloseWrite()
	if got, err := io.ReadAll(c); err != nil || string(got) != "ping" {
		t.Fatalf("echo through the tunnel: %q, %v", got, err)
	}
	if _, err := tunnel("other", hbone.ProtocolH2); hbone.KindOf(err) != hbone.KindRefused {
		t.Fatalf("a waypoint of another namespace: %v, want refused", err)
	}
	if body := getBody(t, admin+"/debug/endpoints"); !strings.Contains(body, `"crossNetwork": "hbone h3`) {
		t.Errorf("/debug/endpoints does not say HBONE is on: %s", body)
	}
}

func TestValidateHBONE(t *testing.T) {
	base := func() Options {
		o := DefaultOptions(func(string) string { return "" })
		o.Namespace, o.Cluster, o.Network, o.EtcdEndpoints = "shop", "east", "a", []string{"http://127.0.0.1:2379"}
		return o
	}
	tests := []struct {
		name string
		mod  func(*Options)
		ok   bool
	}{
		{"defaults: HBONE off", func(*Options) {}, true},
		{"all three files", func(o *Options) { o.CertFile, o.KeyFile, o.CAFile = "c", "k", "ca" }, true},
		{"certificate without CA", func(o *Options) { o.CertFile, o.KeyFile = "c", "k" }, false},
		{"h3", func(o *Options) { o.HBONETransport = "h3" }, true},
		{"unknown transport", func(o *Options) { o.HBONETransport = "quic" }, false},
		{"allow list", func(o *Options) {
			o.AllowCallers = "spiffe://cluster.local/ns/a/sa/b, spiffe://cluster.local/ns/c/sa/d"
		}, true},
		{"allow list with a bad ID", func(o *Options) { o.AllowCallers = "spiffe://cluster.local/ns/a/sa/b,web" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base()
			tt.mod(&o)
			if err := o.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate: %v, want ok=%v", err, tt.ok)
			}
		})
	}
	o := base()
	if o.TrustDomain != "cluster.local" || o.HBONEAddress != ":15008" || o.HBONETransport != "h2" {
		t.Fatalf("defaults: trust domain %q, address %q, transport %q", o.TrustDomain, o.HBONEAddress, o.HBONETransport)
	}
}

// TestRunRejectsCertificateOfAnotherTrustDomain: a certificate outside --trust-domain would
// make every tunnel fail, so the waypoint refuses to start.
func TestRunRejectsCertificateOfAnotherTrustDomain(t *testing.T) {
	dir := newTestCA(t).files(t, "shop", "meshfed-waypoint")
	o := DefaultOptions(func(string) string { return "" })
	o.Namespace, o.Cluster, o.Network, o.TrustDomain = "shop", "east", "a", "example.org"
	o.EtcdEndpoints = []string{"http://" + freeAddr(t)}
	o.CertFile, o.KeyFile, o.CAFile = filepath.Join(dir, identity.CertFileName), filepath.Join(dir, identity.KeyFileName), filepath.Join(dir, identity.CAFileName)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	err := Run(ctx, o, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "trust domain") {
		t.Fatalf("Run: %v, want a trust domain error", err)
	}
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
