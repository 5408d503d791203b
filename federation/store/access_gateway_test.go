package store

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"
)

// putAsRoot writes r as etcd's root, bypassing the writers' election, for a test's fixtures.
func putAsRoot(t *testing.T, root *Client, r Record) {
	t.Helper()
	key, value, err := Encode(r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.etcd.Put(t.Context(), key, string(value)); err != nil {
		t.Fatal(err)
	}
}

// TestGatewayUserReadsServedNamespaces gives a shared gateway's user the namespaces shop and
// cart: its certificate lists and watches both, and is refused on other, on the cluster
// records and on every write; re-granted with cart alone, it loses shop; deleted, it reads
// nothing. Roles other users hold are untouched throughout.
func TestGatewayUserReadsServedNamespaces(t *testing.T) {
	e := startAuthEtcd(t)
	ctx := t.Context()
	putAsRoot(t, e.root, waypointsRecord("cart", "east"))
	if err := e.root.EnsureGatewayUser(ctx, "meshfed-system", "east", []string{"shop", "cart"}); err != nil {
		t.Fatalf("EnsureGatewayUser: %v", err)
	}
	if err := e.root.EnsureGatewayUser(ctx, "meshfed-system", "east", []string{"cart", "shop"}); err != nil {
		t.Fatalf("EnsureGatewayUser again: %v", err)
	}
	c := e.connect(t, GatewayUser("meshfed-system", "east"), NamespacePrefix("shop"))
	for _, ns := range []string{"shop", "cart"} {
		if l, err := c.List(ctx, NamespacePrefix(ns)); err != nil || len(l.Waypoints()) != 1 {
			t.Fatalf("gateway lists %s = %+v, %v; want its one waypoints record", ns, l, err)
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		w, err := c.Watch(wctx, NamespacePrefix(ns), 0)
		if err != nil {
			cancel()
			t.Fatalf("gateway watches %s: %v", ns, err)
		}
		b := <-w.Batches()
		cancel()
		if !b.Snapshot || len(b.Events) != 1 || b.Events[0].Key != WaypointsKey(ns, "east") {
			t.Fatalf("gateway's watch of %s began with %+v, want the one waypoints record", ns, b)
		}
	}
	assertWaypointRefused(t, c)
	got, err := e.root.GatewayUsers(ctx)
	if want := map[Gateway][]string{{Namespace: "meshfed-system", Cluster: "east"}: {"cart", "shop"}}; err != nil || !maps.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("GatewayUsers = %v, %v; want %v", got, err, want)
	}

	if err := e.root.EnsureGatewayUser(ctx, "meshfed-system", "east", []string{"cart"}); err != nil {
		t.Fatalf("EnsureGatewayUser with cart only: %v", err)
	}
	if _, err := c.List(ctx, NamespacePrefix("shop")); !IsPermissionDenied(err) {
		t.Fatalf("gateway lists shop after it was taken away = %v, want permission denied", err)
	}
	if _, err := c.List(ctx, NamespacePrefix("cart")); err != nil {
		t.Fatalf("gateway lists cart: %v", err)
	}
	if _, err := e.connect(t, WaypointUser("shop", "east"), NamespacePrefix("shop")).List(ctx, NamespacePrefix("shop")); err != nil {
		t.Fatalf("shop's waypoint lost its namespace with the gateway's grant: %v", err)
	}

	if err := e.root.DeleteGatewayUser(ctx, "meshfed-system", "east"); err != nil {
		t.Fatal(err)
	}
	if err := e.root.DeleteGatewayUser(ctx, "meshfed-system", "east"); err != nil {
		t.Fatalf("DeleteGatewayUser of an absent user: %v", err)
	}
	if _, err := c.List(ctx, NamespacePrefix("cart")); !IsPermissionDenied(err) {
		t.Fatalf("deleted gateway user lists cart = %v, want permission denied", err)
	}
	if got, err := e.root.GatewayUsers(ctx); err != nil || len(got) != 0 {
		t.Fatalf("GatewayUsers after the delete = %v, %v", got, err)
	}
}

// TestEnsureGatewayUserRefuses checks the names EnsureGatewayUser refuses before it creates
// anything, and that the hub's own credential cannot provision a gateway.
func TestEnsureGatewayUserRefuses(t *testing.T) {
	e := startAuthEtcd(t)
	ctx := t.Context()
	for name, tc := range map[string]struct {
		gwns, cluster string
		namespaces    []string
	}{
		"no namespace":             {"meshfed-system", "east", nil},
		"gateway not a namespace":  {"meshfed.system", "east", []string{"shop"}},
		"served not a namespace":   {"meshfed-system", "east", []string{"shop", "Cart"}},
		"cluster not a name":       {"meshfed-system", "East/1", []string{"shop"}},
		"served name with a colon": {"meshfed-system", "east", []string{"a:b"}},
	} {
		if err := e.root.EnsureGatewayUser(ctx, tc.gwns, tc.cluster, tc.namespaces); err == nil {
			t.Errorf("%s: EnsureGatewayUser(%q, %q, %q) succeeded", name, tc.gwns, tc.cluster, tc.namespaces)
		}
	}
	if got, err := e.root.GatewayUsers(ctx); err != nil || len(got) != 0 {
		t.Fatalf("refused calls left users %v (%v)", got, err)
	}
	roles, err := e.root.ReaderRoleNamespaces(ctx)
	if err != nil || !slices.Equal(slices.Sorted(slices.Values(roles)), []string{"other", "shop"}) {
		t.Fatalf("refused calls left roles %v (%v)", roles, err)
	}
	if err := e.connect(t, HubUser, "").EnsureGatewayUser(ctx, "meshfed-system", "east", []string{"shop"}); !IsPermissionDenied(err) {
		t.Fatalf("hub EnsureGatewayUser = %v, want permission denied", err)
	}
	if _, err := e.root.etcd.UserGet(ctx, GatewayUser("meshfed-system", "east")); err == nil {
		t.Fatal("the hub's refused call created the gateway user")
	}
}

func TestParseGatewayUser(t *testing.T) {
	tests := []struct {
		user, gwns, cluster string
	}{
		{GatewayUser("meshfed-system", "east"), "meshfed-system", "east"},
		{GatewayUser("gw", "eu.west-1"), "gw", "eu.west-1"},
		{WaypointUser("shop", "east"), "", ""},
		{"meshfed-gateway:gw", "", ""},
		{"meshfed-gateway:gw:", "", ""},
		{"meshfed-gateway::east", "", ""},
		{"meshfed-gateway:g.w:east", "", ""},
		{"meshfed-gateway:gw:east:x", "", ""},
	}
	for _, tt := range tests {
		gwns, cluster, err := ParseGatewayUser(tt.user)
		if tt.gwns == "" {
			if !errors.Is(err, ErrMalformedUser) {
				t.Errorf("ParseGatewayUser(%q) = %q, %q, %v; want ErrMalformedUser", tt.user, gwns, cluster, err)
			}
			continue
		}
		if err != nil || gwns != tt.gwns || cluster != tt.cluster {
			t.Errorf("ParseGatewayUser(%q) = %q, %q, %v; want %q, %q", tt.user, gwns, cluster, err, tt.gwns, tt.cluster)
		}
	}
	if _, _, err := ParseWaypointUser(GatewayUser("shop", "east")); err == nil {
		t.Error("a gateway user parses as a waypoint user")
	}
}

// FuzzParseGatewayUser checks that a parsed name is exactly the one GatewayUser renders and is
// never also a waypoint user, so that the hub never mistakes another user for a gateway's.
func FuzzParseGatewayUser(f *testing.F) {
	for _, s := range []string{GatewayUser("gw", "east"), WaypointUser("a", "b"), "meshfed-gateway:a:b:c", "meshfed-gateway:a:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		gwns, cluster, err := ParseGatewayUser(s)
		if err != nil {
			return
		}
		if GatewayUser(gwns, cluster) != s {
			t.Fatalf("ParseGatewayUser(%q) = %q, %q, which render as %q", s, gwns, cluster, GatewayUser(gwns, cluster))
		}
		if err := WaypointsKey(gwns, cluster).Validate(); err != nil {
			t.Fatalf("ParseGatewayUser(%q) = %q, %q: not a valid namespace and cluster: %v", s, gwns, cluster, err)
		}
		if _, _, err := ParseWaypointUser(s); err == nil {
			t.Fatalf("%q parses as a waypoint user too", s)
		}
	})
}
