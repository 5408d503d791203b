package store

import (
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/meshfed/meshfed/internal/secretvol"
)

// dropProxy forwards TCP connections to target until drop closes every one of them, as a
// network blip or an etcd restart would; clients then reconnect through it.
type dropProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
}

func newDropProxy(t *testing.T, target string) *dropProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dropProxy{ln: ln, target: target}
	t.Cleanup(func() { _ = ln.Close(); p.drop() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(u, c); _ = u.Close() }()
			go func() { _, _ = io.Copy(c, u); _ = c.Close() }()
		}
	}()
	return p
}

func (p *dropProxy) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

// TestClientReloadsCertificateFiles swaps the client certificate files as the kubelet swaps a
// Secret volume (..data symlink) under a connected client: the connection made after the swap
// presents the new certificate, which etcd proves by authorizing its user, not the old one's.
func TestClientReloadsCertificateFiles(t *testing.T) {
	e := startAuthEtcd(t)
	u, err := url.Parse(e.endpoints[0])
	if err != nil {
		t.Fatal(err)
	}
	proxy := newDropProxy(t, u.Host)
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
		Endpoints: []string{"https://" + proxy.ln.Addr().String()}, CAFile: e.pki.ca,
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
	proxy.drop()
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
