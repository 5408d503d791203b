package scenarios

import (
	"fmt"
	"testing"
	"time"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/e2e/system"
	"github.com/meshfed/meshfed/federation/store"
)

// bank is the second namespace the shared gateway serves.
const bank = "bank"

// TestSharedGateway: west-1 (network net-b) runs one shared gateway, in meshfed-system, for the
// namespaces shop and bank instead of a waypoint per namespace. The hub publishes the
// gateway's one HBONE address, with its identity, for both namespaces; east-1's waypoints of
// shop and bank (network net-a) reach west-1's services of both namespaces through that one
// address; and the gateway's own outbound side carries west-1's calls of a service in east-1,
// tunnelling to east-1's shop waypoint as the gateway.
func TestSharedGateway(t *testing.T) {
	f := system.Start(t, system.DefaultTopology())
	east, west := f.Member("east-1"), f.Member("west-1")
	f.Export(west, shop, "web", "global", nil)
	f.AddBackend(west, west.Zones[0], shop, "web")
	f.Export(west, bank, "pay", "global", nil)
	f.AddBackend(west, west.Zones[0], bank, "pay")
	f.Export(east, shop, "api", "global", nil)
	f.AddBackend(east, east.Zones[0], shop, "api")

	gw := f.DeployGateway(west, wellknown.SystemNamespace, []string{bank, shop}, system.WaypointOptions{})
	wpShop := f.DeployWaypoint(east, shop, system.WaypointOptions{})
	wpBank := f.DeployWaypoint(east, bank, system.WaypointOptions{})

	t.Run("published", func(t *testing.T) {
		st, err := f.ConnectStore()
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = st.Close() }()
		want := fmt.Sprintf("spiffe://%s/ns/%s/sa/%s", system.TrustDomain, wellknown.SystemNamespace, wellknown.GatewayName)
		for _, ns := range []string{shop, bank} {
			f.Eventually("the gateway published for "+ns, 30*time.Second, func() (bool, string) {
				l, err := st.List(t.Context(), store.NamespacePrefix(ns))
				if err != nil {
					return false, err.Error()
				}
				for _, r := range l.Waypoints() {
					if r.Cluster == west.Name {
						ok := r.Gateway == wellknown.SystemNamespace && r.Identity == want && len(r.Addresses) == 1 && r.Addresses[0] == gw.HBONE
						return ok, fmt.Sprintf("%+v", r)
					}
				}
				return false, "no waypoints record of west-1"
			})
		}
	})

	// Networks are bridges of their own: east-1's waypoints reach net-b only through HBONE
	// addresses the store publishes, and for west-1 it publishes the gateway's alone.
	t.Run("cross-network-through-one-address", func(t *testing.T) {
		c := f.AddClient(east, "gw-client")
		for _, tc := range []struct {
			wp       *system.Waypoint
			ns, name string
		}{{wpShop, shop, "web"}, {wpBank, bank, "pay"}} {
			target := c.Target(tc.wp, tc.ns, tc.name, system.HTTPPort)
			f.Eventually(fmt.Sprintf("east-1 reaches %s/%s in west-1", tc.ns, tc.name), 30*time.Second, func() (bool, string) {
				r := c.Get(t.Context(), target)
				return r.OK() && r.Cluster == west.Name, fmt.Sprintf("%+v", r)
			})
			for i := range 50 {
				if r := c.Get(t.Context(), target); !r.OK() || r.Cluster != west.Name {
					t.Fatalf("request %d to %s/%s: %+v, want west-1", i, tc.ns, tc.name, r)
				}
			}
		}
	})

	t.Run("gateway-outbound", func(t *testing.T) {
		c := f.AddClient(west, "west-client")
		target := c.Target(gw, shop, "api", system.HTTPPort)
		f.Eventually("west-1 reaches shop/api in east-1 through the gateway", 30*time.Second, func() (bool, string) {
			r := c.Get(t.Context(), target)
			return r.OK() && r.Cluster == east.Name, fmt.Sprintf("%+v", r)
		})
		for i := range 50 {
			if r := c.Get(t.Context(), target); !r.OK() || r.Cluster != east.Name {
				t.Fatalf("request %d: %+v, want east-1", i, r)
			}
		}
	})
}

// TestSharedGatewayAllNamespaces: west-1's shared gateway is annotated "*", so it serves every
// namespace of west-1 left to it, which its process learns from the gateway record the hub
// writes in the store. shop and bank are reached from east-1 through its one address; a
// namespace created afterwards (late) is served too, without touching the gateway.
func TestSharedGatewayAllNamespaces(t *testing.T) {
	f := system.Start(t, system.DefaultTopology())
	east, west := f.Member("east-1"), f.Member("west-1")
	for _, ns := range []string{shop, bank} {
		f.Export(west, ns, "web", "global", nil)
		f.AddBackend(west, west.Zones[0], ns, "web")
	}
	f.DeployGateway(west, wellknown.SystemNamespace, []string{wellknown.GatewayAllNamespaces}, system.WaypointOptions{})
	c := f.AddClient(east, "all-client")
	reach := func(ns string) {
		t.Helper()
		wp := f.DeployWaypoint(east, ns, system.WaypointOptions{})
		target := c.Target(wp, ns, "web", system.HTTPPort)
		f.Eventually(fmt.Sprintf("east-1 reaches %s/web in west-1 through the gateway", ns), 60*time.Second, func() (bool, string) {
			r := c.Get(t.Context(), target)
			return r.OK() && r.Cluster == west.Name, fmt.Sprintf("%+v", r)
		})
		for i := range 20 {
			if r := c.Get(t.Context(), target); !r.OK() || r.Cluster != west.Name {
				t.Fatalf("request %d to %s/web: %+v, want west-1", i, ns, r)
			}
		}
	}
	reach(shop)
	reach(bank)
	// A namespace that did not exist when the gateway started.
	f.Export(west, "late", "web", "global", nil)
	f.AddBackend(west, west.Zones[0], "late", "web")
	reach("late")
}
