package app

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/hbone/pki"
)

// TestIssuerRotatesWaypointCredentials runs the default embedded store with certificates of 4s
// renewed at half their life: the hub writes the waypoint's store and HBONE certificates into
// the member's namespace, the HBONE one is exactly what hbone/identity accepts as the
// namespace's waypoint in its cluster, every renewal lands while the previous certificate is
// still valid, a Secret the user created is left alone, and once the waypoint is gone its etcd
// user and role are deleted after the grace period.
func TestIssuerRotatesWaypointCredentials(t *testing.T) {
	const validity = 4 * time.Second
	env := startHubWith(t, func(o *Options) {
		o.EmbeddedInsecure = false
		o.EmbeddedClientURL = "https://" + freeAddr(t)
		o.WaypointCertValidity, o.WaypointCertRenewPercent = validity, 50
		o.WaypointUserGrace = time.Second
	}, "east-1")
	ctx := t.Context()
	member := env.members["east-1"].Client
	createWaypointService(t, member, "shop")
	if err := member.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "byo"}}); err != nil {
		t.Fatal(err)
	}
	own := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: wellknown.WaypointCertSecret, Namespace: "byo"}, Data: map[string][]byte{"tls.crt": []byte("mine")}}
	if err := member.Create(ctx, own); err != nil {
		t.Fatal(err)
	}
	createWaypointServiceIn(t, member, "byo")

	started := time.Now()
	certs := map[string][]*x509.Certificate{}
	for len(certs[wellknown.WaypointCertSecret]) < 3 || len(certs[wellknown.WaypointStoreSecret]) < 3 {
		for _, name := range []string{wellknown.WaypointStoreSecret, wellknown.WaypointCertSecret} {
			c := secretCert(t, member, "shop", name)
			if c == nil {
				continue
			}
			seen := certs[name]
			if len(seen) > 0 && seen[len(seen)-1].SerialNumber.Cmp(c.SerialNumber) == 0 {
				continue
			}
			// When it was issued, not when this poll saw it: a loaded machine may delay the
			// poll by more than the 2 s left to the previous certificate.
			if issued := c.NotBefore.Add(pki.ClockSkew); len(seen) > 0 && !issued.Before(seen[len(seen)-1].NotAfter) {
				t.Fatalf("%s renewed at %s, after its previous certificate expired (%s)", name, issued, seen[len(seen)-1].NotAfter)
			}
			certs[name] = append(seen, c)
		}
		if time.Since(started) > time.Minute {
			t.Fatalf("fewer than 3 certificates of each Secret in a minute: %d store, %d HBONE", len(certs[wellknown.WaypointStoreSecret]), len(certs[wellknown.WaypointCertSecret]))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("certificates seen: %d store, %d HBONE", len(certs[wellknown.WaypointStoreSecret]), len(certs[wellknown.WaypointCertSecret]))

	var sec corev1.Secret
	if err := member.Get(ctx, client.ObjectKey{Namespace: "shop", Name: wellknown.WaypointCertSecret}, &sec); err != nil {
		t.Fatal(err)
	}
	// The control plane's tests do not import hbone (depguard); hbone/identity's tests load
	// pki.IssueWorkload's certificates as HBONE credentials. Here: the names it is given.
	leaf := secretCert(t, member, "shop", wellknown.WaypointCertSecret)
	const wantID = "spiffe://cluster.local/ns/shop/sa/" + wellknown.WaypointName
	if len(leaf.URIs) != 1 || leaf.URIs[0].String() != wantID || !slices.Equal(leaf.Subject.OrganizationalUnit, []string{"east-1"}) {
		t.Fatalf("HBONE certificate names %v %v, want %s in cluster east-1", leaf.URIs, leaf.Subject, wantID)
	}
	if len(leaf.IPAddresses) != 1 || !leaf.IPAddresses[0].Equal(net.ParseIP("203.0.113.7")) {
		t.Fatalf("HBONE certificate IP SANs %v, want the waypoint's HBONE address", leaf.IPAddresses)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(sec.Data["ca.crt"])
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
			t.Fatalf("HBONE certificate does not verify for %v against its bundle: %v", usage, err)
		}
	}
	if err := member.Get(ctx, client.ObjectKey{Namespace: "byo", Name: wellknown.WaypointCertSecret}, &sec); err != nil || string(sec.Data["tls.crt"]) != "mine" {
		t.Fatalf("the user's Secret was changed: %v %q", err, sec.Data["tls.crt"])
	}

	// A 30-day certificate, as meshfedctl waypoint apply issues, is replaced by one of the
	// hub's lifetime on the first pass.
	var caSec corev1.Secret
	if err := env.hub.Client.Get(ctx, client.ObjectKey{Namespace: env.opts.Namespace, Name: env.opts.CASecret}, &caSec); err != nil {
		t.Fatal(err)
	}
	ca, err := pki.ParseCA(caSec.Data[corev1.TLSCertKey], caSec.Data[corev1.TLSPrivateKeyKey], time.Now())
	if err != nil {
		t.Fatal(err)
	}
	long, err := ca.ClientBundle(store.WaypointUser("legacy", "east-1"), time.Now(), 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := member.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "legacy"}}); err != nil {
		t.Fatal(err)
	}
	if err := member.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{
		Name: wellknown.WaypointStoreSecret, Namespace: "legacy", Labels: map[string]string{wellknown.ManagedByLabel: wellknown.ManagedByValue},
	}, Type: corev1.SecretTypeTLS, Data: long}); err != nil {
		t.Fatal(err)
	}
	createWaypointServiceIn(t, member, "legacy")
	eventually(t, "the 30-day store certificate replaced", func() (bool, string) {
		c := secretCert(t, member, "legacy", wellknown.WaypointStoreSecret)
		life := c.NotAfter.Sub(c.NotBefore)
		return life <= validity+pki.ClockSkew+time.Second, life.String()
	})

	caFile := filepath.Join(env.opts.DataDir, "tls", "ca.crt")
	wp := storeClientFromSecret(t, member, "shop", caFile, env.opts.EmbeddedClientURL)
	c, err := store.Connect(ctx, wp)
	if err != nil {
		t.Fatalf("the hub's store certificate does not connect: %v", err)
	}
	_ = c.Close()

	if err := member.Delete(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: wellknown.WaypointName, Namespace: "shop"}}); err != nil {
		t.Fatal(err)
	}
	root := rootClient(t, env.opts)
	eventually(t, "the user of the removed waypoint deleted", func() (bool, string) {
		users, err := root.WaypointUsers(ctx)
		for _, k := range users {
			if k.Namespace == "shop" {
				return false, fmt.Sprint(users, err)
			}
		}
		return err == nil, fmt.Sprint(err)
	})
	if c, err := store.Connect(ctx, storeClientFromSecret(t, member, "shop", caFile, env.opts.EmbeddedClientURL)); err == nil {
		_ = c.Close()
		t.Fatal("the removed waypoint's certificate still connects")
	}
	if roles, err := root.ReaderRoleNamespaces(ctx); err != nil || !slices.Equal(roles, []string{"byo", "legacy"}) {
		t.Fatalf("reader roles of %v (%v), want byo's and legacy's only: shop has no waypoint left", roles, err)
	}
}

// secretCert is the certificate in the Secret name of ns, nil while there is none.
func secretCert(t *testing.T, c client.Client, ns, name string) *x509.Certificate {
	t.Helper()
	var sec corev1.Secret
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &sec); err != nil {
		return nil
	}
	if sec.Labels[wellknown.ManagedByLabel] != wellknown.ManagedByValue {
		t.Fatalf("Secret %s/%s lacks the managed-by label", ns, name)
	}
	pair, err := tls.X509KeyPair(sec.Data["tls.crt"], sec.Data["tls.key"])
	if err != nil {
		t.Fatalf("Secret %s/%s: %v", ns, name, err)
	}
	return pair.Leaf
}

// storeClientFromSecret connects with the store Secret of ns, as a waypoint mounting it does.
func storeClientFromSecret(t *testing.T, c client.Client, ns, caFile, endpoint string) store.ClientConfig {
	t.Helper()
	var sec corev1.Secret
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: wellknown.WaypointStoreSecret}, &sec); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, k := range []string{"tls.crt", "tls.key"} {
		if err := os.WriteFile(filepath.Join(dir, k), sec.Data[k], 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return store.ClientConfig{
		Endpoints: []string{endpoint}, CAFile: caFile, CertFile: filepath.Join(dir, "tls.crt"), KeyFile: filepath.Join(dir, "tls.key"),
		Scope: store.NamespacePrefix(ns), DialTimeout: 2 * time.Second,
	}
}

// rootClient connects as etcd's root, with the certificate the hub wrote into its data dir.
func rootClient(t *testing.T, o Options) *store.Client {
	t.Helper()
	dir := filepath.Join(o.DataDir, "tls")
	c, err := store.Connect(t.Context(), store.ClientConfig{
		Endpoints: []string{o.EmbeddedClientURL}, CAFile: filepath.Join(dir, "ca.crt"),
		CertFile: filepath.Join(dir, "root.crt"), KeyFile: filepath.Join(dir, "root.key"), DialTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
