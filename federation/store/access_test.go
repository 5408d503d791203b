package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/meshfed/meshfed/federation/store/embedded"
)

// authEtcd is an embedded etcd serving mutual TLS only, with meshfed's access enabled, one
// hub writer holding records of the namespaces shop and other, and waypoint users for
// shop/east and other/east.
type authEtcd struct {
	pki       testPKI
	endpoints []string
	root      *Client
}

func startAuthEtcd(t *testing.T) *authEtcd {
	t.Helper()
	pki := newTestPKI(t)
	srv, err := embedded.Start(t.Context(), embedded.Config{
		DataDir: t.TempDir(), ClientURL: loopbackURL("https"), PeerURL: loopbackURL("http"),
		CertFile: pki.serverCert, KeyFile: pki.serverKey, ClientCAFile: pki.ca, Logger: testLogger,
	})
	if err != nil {
		t.Fatalf("embedded.Start: %v", err)
	}
	t.Cleanup(srv.Close)
	e := &authEtcd{pki: pki, endpoints: srv.Endpoints()}
	e.root = e.connect(t, RootUser, "")
	if err := e.root.EnableAccess(t.Context()); err != nil {
		t.Fatalf("EnableAccess: %v", err)
	}
	if err := e.root.EnableAccess(t.Context()); err != nil {
		t.Fatalf("EnableAccess again: %v", err)
	}
	for _, ns := range []string{"shop", "other"} {
		if err := e.root.EnsureWaypointUser(t.Context(), ns, "east"); err != nil {
			t.Fatalf("EnsureWaypointUser %s: %v", ns, err)
		}
	}
	if err := e.root.EnsureWaypointUser(t.Context(), "shop", "east"); err != nil {
		t.Fatalf("EnsureWaypointUser again: %v", err)
	}
	w := NewWriter(e.connect(t, HubUser, ""), WriterOptions{Identity: "hub", SessionTTL: 5, Logger: testLogger})
	if err := w.Campaign(t.Context()); err != nil {
		t.Fatalf("hub Campaign: %v", err)
	}
	for _, r := range []Record{clusterRecord("east"), waypointsRecord("shop", "east"), waypointsRecord("other", "east")} {
		if _, err := w.Put(t.Context(), r); err != nil {
			t.Fatalf("hub Put %s: %v", r.Key(), err)
		}
	}
	return e
}

// connect connects with a certificate for user, reading scope; it fails the test if it cannot.
func (e *authEtcd) connect(t *testing.T, user, scope string) *Client {
	t.Helper()
	c, err := e.dial(t, e.pki.client(t, user), scope)
	if err != nil {
		t.Fatalf("Connect as %s: %v", user, err)
	}
	return c
}

func (e *authEtcd) dial(t *testing.T, cfg ClientConfig, scope string) (*Client, error) {
	t.Helper()
	cfg.Endpoints, cfg.Scope, cfg.DialTimeout, cfg.Logger = e.endpoints, scope, 3*time.Second, testLogger
	c, err := Connect(t.Context(), cfg)
	if err == nil {
		t.Cleanup(func() { _ = c.Close() })
	}
	return c, err
}

// TestWaypointConnectsWithNamespaceRole is the regression test for a waypoint that held exactly
// its namespace's read-only role and exited with "permission denied": the revision probe read
// the single key /meshfed/v1/, outside the role. The probe now reads the client's Scope.
func TestWaypointConnectsWithNamespaceRole(t *testing.T) {
	e := startAuthEtcd(t)
	cert := e.pki.client(t, WaypointUser("shop", "east"))
	if _, err := e.dial(t, cert, ""); !IsPermissionDenied(err) {
		t.Fatalf("Connect with the whole store as scope = %v, want permission denied", err)
	}
	c, err := e.dial(t, cert, NamespacePrefix("shop"))
	if err != nil {
		t.Fatalf("Connect with the namespace as scope: %v", err)
	}
	if _, err := c.Revision(t.Context()); err != nil {
		t.Fatalf("Revision: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	w, err := c.Watch(ctx, NamespacePrefix("shop"), 0)
	if err != nil {
		t.Fatal(err)
	}
	b := <-w.Batches()
	if !b.Snapshot || len(b.Events) != 1 || b.Events[0].Key != WaypointsKey("shop", "east") {
		t.Fatalf("watch snapshot = %+v, want the one waypoints record of shop", b)
	}
}

// TestHostileClients tries, against the authenticated store, what issue 15 found a plain etcd
// client could do, with each credential short of the hub's.
func TestHostileClients(t *testing.T) {
	e := startAuthEtcd(t)
	t.Run("no client certificate", func(t *testing.T) {
		if c, err := e.dial(t, ClientConfig{CAFile: e.pki.ca}, NamespacePrefix("shop")); err == nil {
			_, lerr := c.List(t.Context(), NamespacePrefix("shop"))
			t.Fatalf("Connect without a certificate succeeded (List: %v)", lerr)
		}
	})
	t.Run("certificate of another CA", func(t *testing.T) {
		foreign := newTestPKI(t).client(t, RootUser)
		foreign.CAFile = e.pki.ca
		if _, err := e.dial(t, foreign, ""); err == nil {
			t.Fatal("Connect with a root certificate of another CA succeeded")
		}
	})
	t.Run("user name without password", func(t *testing.T) {
		cfg := ClientConfig{CAFile: e.pki.ca, Username: HubUser}
		if _, err := e.dial(t, cfg, ""); err == nil {
			t.Fatalf("Connect as %s without certificate or password succeeded", HubUser)
		}
	})
	t.Run("certificate of an unknown user", func(t *testing.T) {
		if _, err := e.dial(t, e.pki.client(t, "mallory"), NamespacePrefix("shop")); !IsPermissionDenied(err) {
			t.Fatalf("Connect as an unknown user = %v, want permission denied", err)
		}
	})
	t.Run("waypoint credential", func(t *testing.T) {
		c := e.connect(t, WaypointUser("shop", "east"), NamespacePrefix("shop"))
		if l, err := c.List(t.Context(), NamespacePrefix("shop")); err != nil || len(l.Entries) != 1 {
			t.Fatalf("List own namespace = %+v, %v; want one record", l, err)
		}
		assertWaypointRefused(t, c)
	})
	t.Run("deleted waypoint user", func(t *testing.T) {
		c := e.connect(t, WaypointUser("other", "east"), NamespacePrefix("other"))
		if err := e.root.DeleteWaypointUser(t.Context(), "other", "east"); err != nil {
			t.Fatal(err)
		}
		if err := e.root.DeleteWaypointUser(t.Context(), "other", "east"); err != nil {
			t.Fatalf("DeleteWaypointUser of an absent user: %v", err)
		}
		if _, err := c.List(t.Context(), NamespacePrefix("other")); !IsPermissionDenied(err) {
			t.Fatalf("List after the user was deleted = %v, want permission denied", err)
		}
	})
	t.Run("hub credential manages no users", func(t *testing.T) {
		c := e.connect(t, HubUser, "")
		if err := c.EnsureWaypointUser(t.Context(), "shop", "west"); !IsPermissionDenied(err) {
			t.Fatalf("hub EnsureWaypointUser = %v, want permission denied", err)
		}
		if _, err := c.etcd.AuthDisable(t.Context()); !IsPermissionDenied(err) {
			t.Fatalf("hub AuthDisable = %v, want permission denied", err)
		}
	})
}

// assertWaypointRefused checks that a waypoint credential of shop reads nothing outside shop
// and writes nothing at all.
func assertWaypointRefused(t *testing.T, c *Client) {
	t.Helper()
	ctx := t.Context()
	refused := map[string]error{}
	_, refused["list other namespace"] = c.List(ctx, NamespacePrefix("other"))
	_, refused["list clusters"] = c.List(ctx, ClustersPrefix)
	_, _, refused["get other waypoints"] = c.Get(ctx, WaypointsKey("other", "east"))
	_, refused["put forged waypoints"] = c.etcd.Put(ctx, WaypointsKey("shop", "east").String(), `{"v":1}`)
	_, refused["delete own prefix"] = c.etcd.Delete(ctx, NamespacePrefix("shop"), clientv3.WithPrefix())
	_, refused["delete other prefix"] = c.etcd.Delete(ctx, NamespacePrefix("other"), clientv3.WithPrefix())
	refused["campaign"] = NewWriter(c, WriterOptions{Identity: "mallory", SessionTTL: 5, Logger: testLogger}).Campaign(ctx)
	_, refused["add user"] = c.etcd.UserAdd(ctx, "mallory", "secret")
	_, refused["disable auth"] = c.etcd.AuthDisable(ctx)
	for what, err := range refused {
		if !IsPermissionDenied(err) {
			t.Errorf("waypoint credential: %s = %v, want permission denied", what, err)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ch := c.etcd.Watch(wctx, NamespacePrefix("other"), clientv3.WithPrefix())
	resp, ok := <-ch
	if ok && !IsPermissionDenied(resp.Err()) {
		t.Errorf("waypoint credential: watch other namespace = %v (events %d), want permission denied", resp.Err(), len(resp.Events))
	}
}

// TestPasswordUser is the external-etcd path without client certificates: a user with a
// password and the namespace's role connects with Username and Password over TLS.
func TestPasswordUser(t *testing.T) {
	e := startAuthEtcd(t)
	if _, err := e.root.etcd.UserAdd(t.Context(), "shop-reader", "s3cret"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.root.etcd.UserGrantRole(t.Context(), "shop-reader", ReaderRole("shop")); err != nil {
		t.Fatal(err)
	}
	// The embedded etcd requires a client certificate of its CA on every connection; one for
	// an unknown user carries the password login.
	cfg := e.pki.client(t, "nobody")
	cfg.Username, cfg.Password = "shop-reader", "wrong"
	if _, err := e.dial(t, cfg, NamespacePrefix("shop")); err == nil {
		t.Fatal("Connect with a wrong password succeeded")
	}
	cfg.Password, cfg.PasswordFile = "", filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(cfg.PasswordFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := e.dial(t, cfg, NamespacePrefix("shop"))
	if err != nil {
		t.Fatalf("Connect with the password: %v", err)
	}
	if l, err := c.List(t.Context(), NamespacePrefix("shop")); err != nil || len(l.Entries) != 1 {
		t.Fatalf("List = %+v, %v", l, err)
	}
	if _, err := c.List(t.Context(), NamespacePrefix("other")); !IsPermissionDenied(err) {
		t.Fatalf("List other namespace = %v, want permission denied", err)
	}
}

func TestWaypointUsers(t *testing.T) {
	e := startAuthEtcd(t)
	got, err := e.root.WaypointUsers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := map[Key]bool{WaypointsKey("shop", "east"): true, WaypointsKey("other", "east"): true}
	if len(got) != len(want) || !want[got[0]] || !want[got[1]] {
		t.Fatalf("WaypointUsers = %v, want %v", got, want)
	}
	if _, err := e.connect(t, HubUser, "").WaypointUsers(t.Context()); !IsPermissionDenied(err) {
		t.Fatalf("WaypointUsers as the hub = %v, want permission denied", err)
	}
}

func TestParseWaypointUser(t *testing.T) {
	tests := []struct {
		user, ns, cluster string
	}{
		{WaypointUser("shop", "east"), "shop", "east"},
		{WaypointUser("a", "eu.west-1"), "a", "eu.west-1"},
		{"root", "", ""},
		{"meshfed-hub", "", ""},
		{"meshfed-waypoint:shop", "", ""},
		{"meshfed-waypoint:shop:", "", ""},
		{"meshfed-waypoint::east", "", ""},
		{"meshfed-waypoint:sh.op:east", "", ""},
		{"meshfed-waypoint:shop:east:x", "", ""},
		{"meshfed-waypoint:Shop:east", "", ""},
	}
	for _, tt := range tests {
		ns, cluster, err := ParseWaypointUser(tt.user)
		if tt.ns == "" {
			if !errors.Is(err, ErrMalformedUser) {
				t.Errorf("ParseWaypointUser(%q) = %q, %q, %v; want ErrMalformedUser", tt.user, ns, cluster, err)
			}
			continue
		}
		if err != nil || ns != tt.ns || cluster != tt.cluster {
			t.Errorf("ParseWaypointUser(%q) = %q, %q, %v; want %q, %q", tt.user, ns, cluster, err, tt.ns, tt.cluster)
		}
	}
}

// FuzzParseWaypointUser checks that a parsed name is exactly the one WaypointUser renders, so
// that the hub never mistakes another user for a waypoint's and deletes it.
func FuzzParseWaypointUser(f *testing.F) {
	for _, s := range []string{WaypointUser("shop", "east"), "root", "meshfed-waypoint:a:b:c", "meshfed-waypoint:a:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ns, cluster, err := ParseWaypointUser(s)
		if err != nil {
			return
		}
		if WaypointUser(ns, cluster) != s {
			t.Fatalf("ParseWaypointUser(%q) = %q, %q, which render as %q", s, ns, cluster, WaypointUser(ns, cluster))
		}
		if err := WaypointsKey(ns, cluster).Validate(); err != nil {
			t.Fatalf("ParseWaypointUser(%q) = %q, %q: not a valid waypoints key: %v", s, ns, cluster, err)
		}
	})
}
