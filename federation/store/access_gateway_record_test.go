package store

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestGatewayUserReadsItsRecord gives the shared gateway of meshfed-system in east the
// namespace shop: its certificate connects scoped to its gateway record and reads it, and is
// refused the records of the gateway of another namespace, of the same namespace in another
// cluster and of a namespace whose name merely begins with its own (the grant has no range
// end), the gateways prefix, the cluster records, a write of its own record and a watch of
// the gateways; it still reads shop and not other. Re-granted cart, it keeps its record and
// GatewayUsers lists cart alone; deleted, its role goes with it.
func TestGatewayUserReadsItsRecord(t *testing.T) {
	e := startAuthEtcd(t)
	ctx := t.Context()
	own := &GatewayRecord{Cluster: "east", Namespace: "meshfed-system", Serves: []string{"shop"}}
	others := []*GatewayRecord{
		{Cluster: "east", Namespace: "gw-b", Serves: []string{"other"}},
		{Cluster: "west", Namespace: "meshfed-system"},
		{Cluster: "east", Namespace: "meshfed-system-2"},
	}
	for _, r := range append([]*GatewayRecord{own}, others...) {
		putAsRoot(t, e.root, r)
	}
	for range 2 {
		if err := e.root.EnsureGatewayUser(ctx, "meshfed-system", "east", []string{"shop"}); err != nil {
			t.Fatalf("EnsureGatewayUser: %v", err)
		}
	}
	c := e.connect(t, GatewayUser("meshfed-system", "east"), own.Key().String())
	readsOwn := func(what string) {
		t.Helper()
		got, found, err := c.Get(ctx, own.Key())
		if err != nil || !found || !slices.Equal(got.Record.(*GatewayRecord).Serves, own.Serves) {
			t.Fatalf("%s: gateway reads its record = %+v, %v, %v; want %+v", what, got, found, err, own)
		}
	}
	readsOwn("granted shop")
	refused := map[string]error{}
	for _, r := range others {
		_, _, refused["get "+r.Key().String()] = c.Get(ctx, r.Key())
	}
	_, refused["list gateways"] = c.List(ctx, GatewaysPrefix)
	_, refused["list clusters"] = c.List(ctx, ClustersPrefix)
	_, refused["list other namespace"] = c.List(ctx, NamespacePrefix("other"))
	_, refused["put own record"] = c.etcd.Put(ctx, own.Key().String(), `{"v":1}`)
	for what, err := range refused {
		if !IsPermissionDenied(err) {
			t.Errorf("gateway credential: %s = %v, want permission denied", what, err)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if resp, ok := <-c.etcd.Watch(wctx, GatewaysPrefix, clientv3.WithPrefix()); ok && !IsPermissionDenied(resp.Err()) {
		t.Errorf("gateway credential: watch gateways = %v (events %d), want permission denied", resp.Err(), len(resp.Events))
	}
	if _, err := c.List(ctx, NamespacePrefix("shop")); err != nil {
		t.Fatalf("gateway lists shop: %v", err)
	}

	if err := e.root.EnsureGatewayUser(ctx, "meshfed-system", "east", []string{"cart"}); err != nil {
		t.Fatalf("EnsureGatewayUser with cart: %v", err)
	}
	readsOwn("granted cart")
	got, err := e.root.GatewayUsers(ctx)
	if want := map[Gateway][]string{{Namespace: "meshfed-system", Cluster: "east"}: {"cart"}}; err != nil || !maps.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("GatewayUsers = %v, %v; want %v", got, err, want)
	}
	if roles, err := e.root.ReaderRoleNamespaces(ctx); err != nil || slices.Contains(roles, "meshfed-system:east") {
		t.Fatalf("reader roles %v (%v) count the gateway's role", roles, err)
	}

	if err := e.root.DeleteGatewayUser(ctx, "meshfed-system", "east"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.root.etcd.RoleGet(ctx, GatewayRole("meshfed-system", "east")); !errors.Is(err, rpctypes.ErrRoleNotFound) {
		t.Fatalf("the gateway's role after its user was deleted: %v, want not found", err)
	}
	if err := e.root.DeleteGatewayUser(ctx, "meshfed-system", "east"); err != nil {
		t.Fatalf("DeleteGatewayUser of an absent user and role: %v", err)
	}
}
