package store

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/meshfed/meshfed/internal/cutproxy"

	"github.com/meshfed/meshfed/internal/secretvol"
)

// TestClientReloadsCertificateFiles swaps the client certificate files as the kubelet swaps a
// Secret volume (..data symlink) under a connected client: the connection made after the swap
// presents the new certificate, which etcd proves by authorizing its user, not the old one's.
func TestClientReloadsCertificateFiles(t *testing.T) {
	e := startAuthEtcd(t)
	u, err := url.Parse(e.endpoints[0])
	if err != nil {
		t.Fatal(err)
	}
	proxy := cutproxy.Start(t, u.Host)
	dir := filepath.Join(t.TempDir(), "etcd-certs")
	project := func(user string) {
		cfg := e.pki.client(t, user)
		files := map[string][]byte{}
		for name, path := range map[string]string{"tls.crt": cfg.CertFile, "tls.key": cfg.KeyFile} {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			files[name] = b
		}
		if err := secretvol.Write(dir, files); err != nil {
			t.Fatal(err)
		}
	}
	project(WaypointUser("shop", "east"))
	c, err := Connect(t.Context(), ClientConfig{
		Endpoints: []string{"https://" + proxy.Addr()}, CAFile: e.pki.ca,
		CertFile: filepath.Join(dir, "tls.crt"), KeyFile: filepath.Join(dir, "tls.key"),
		Scope: NamespacePrefix("shop"), DialTimeout: 3 * time.Second, Logger: testLogger,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	readable := func(ns string) error {
		_, err := c.List(t.Context(), NamespacePrefix(ns))
		return err
	}
	if err := readable("shop"); err != nil {
		t.Fatalf("shop's certificate reads shop: %v", err)
	}
	project(WaypointUser("other", "east"))
	if err := readable("shop"); err != nil {
		t.Fatalf("the established connection stopped serving after the swap: %v", err)
	}
	proxy.Cut()
	deadline := time.Now().Add(30 * time.Second)
	for {
		errShop, errOther := readable("shop"), readable("other")
		if IsPermissionDenied(errShop) && errOther == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the swap and a reconnect: shop %v, other %v; want the new certificate's user (other's)", errShop, errOther)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDeleteWaypointUserAndRole: a deleted waypoint user's certificate authenticates nobody,
// and its namespace's role goes with DeleteReaderRole.
func TestDeleteWaypointUserAndRole(t *testing.T) {
	e := startAuthEtcd(t)
	ctx := t.Context()
	if err := e.root.DeleteWaypointUser(ctx, "shop", "east"); err != nil {
		t.Fatal(err)
	}
	if err := e.root.DeleteWaypointUser(ctx, "shop", "east"); err != nil {
		t.Fatalf("deleting an absent user: %v", err)
	}
	if err := e.root.DeleteReaderRole(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	if err := e.root.DeleteReaderRole(ctx, "shop"); err != nil {
		t.Fatalf("deleting an absent role: %v", err)
	}
	if _, err := e.dial(t, e.pki.client(t, WaypointUser("shop", "east")), NamespacePrefix("shop")); err == nil {
		t.Fatal("a deleted user's certificate still connects")
	}
	roles, err := e.root.ReaderRoleNamespaces(ctx)
	if err != nil || !slices.Equal(roles, []string{"other"}) {
		t.Fatalf("ReaderRoleNamespaces = %v, %v; want [other]", roles, err)
	}
	if _, err := e.connect(t, HubUser, "").ReaderRoleNamespaces(ctx); !IsPermissionDenied(err) && !errors.Is(err, nil) {
		t.Logf("ReaderRoleNamespaces as the hub: %v", err)
	}
	if err := e.connect(t, WaypointUser("other", "east"), NamespacePrefix("other")).DeleteReaderRole(ctx, "other"); !IsPermissionDenied(err) {
		t.Fatalf("DeleteReaderRole as a waypoint = %v, want permission denied", err)
	}
}
