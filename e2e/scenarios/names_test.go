package scenarios

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/e2e/system"
)

// TestNames: clients call global services by name, through their cluster's real CoreDNS (its
// Corefile the one the hub writes into the member's ConfigMap) forwarding the federation's
// zones to the member's meshfed-dns.
//   - web.shop.svc.clusterset.local and web.shop.mesh.internal reach web, and keep reaching
//     it by name when web's backends in the client's cluster crash (failover to west-1);
//   - global-only takes over cart.shop.svc.cluster.local in east-1, where cart also exists as
//     a local Service of its own; released, the name is the local Service's again;
//   - a service removed from the federation stops resolving: NXDOMAIN once the TTL is over.
func TestNames(t *testing.T) {
	f := system.Start(t, system.DefaultTopology())
	east, west := f.Member("east-1"), f.Member("west-1")
	web := map[string][]*system.Backend{}
	for _, m := range []*system.Member{east, west} {
		f.Export(m, shop, "web", "global", nil)
		web[m.Name] = append(web[m.Name], f.AddBackend(m, m.Zones[0], shop, "web"), f.AddBackend(m, m.Zones[0], shop, "web"))
		f.DeployWaypoint(m, shop, system.WaypointOptions{})
	}
	n := &nameLab{f: f, east: east, west: west, c: f.AddClient(east, "client")}
	t.Run("by name", func(t *testing.T) { n.byName(t, web[east.Name]) })
	t.Run("takeover", n.takeover)
	t.Run("removed", n.removed)
}

// nameLab is TestNames's federation: web exported by east-1 and west-1, a client in east-1.
type nameLab struct {
	f          *system.Federation
	east, west *system.Member
	c          *system.Client
}

// byName calls web by its two federation names, steady and after eastBackends crash.
func (n *nameLab) byName(t *testing.T, eastBackends []*system.Backend) {
	f, c := n.f, n.c
	names := []string{"web.shop.svc.clusterset.local", "web.shop.mesh.internal"}
	for _, name := range names {
		f.Eventually(name+" answers", 60*time.Second, func() (bool, string) {
			r := c.Get(t.Context(), name+":80")
			return r.OK(), fmt.Sprintf("%+v", r)
		})
	}
	derived := clusterIP(t, n.east, wellknown.DerivedServiceName("web"))
	for _, name := range names {
		if ip, err := c.Resolve(t.Context(), name); err != nil || ip != derived {
			t.Errorf("%s resolves in east-1 to %v (%v), want web-global's ClusterIP %s", name, ip, err, derived)
		}
	}
	ok, failed := callByName(t.Context(), c, names, 200)
	t.Logf("by name, steady: %d ok, %d failed", ok, failed)
	if failed > 0 {
		t.Errorf("%d of %d requests by name failed", failed, ok+failed)
	}

	// Failover: east-1's backends crash; by name, traffic moves to west-1 across networks.
	for _, b := range eastBackends {
		b.Stop()
	}
	f.SetReady(false, eastBackends...)
	f.Eventually("web by name served from west-1", 30*time.Second, func() (bool, string) {
		r := c.Get(t.Context(), names[0]+":80")
		return r.OK() && r.Cluster == n.west.Name, fmt.Sprintf("%+v", r)
	})
	ok, failed = callByName(t.Context(), c, names, 200)
	t.Logf("by name, after failover: %d ok, %d failed", ok, failed)
	if failed > 0 {
		t.Errorf("%d of %d requests by name failed after failover", failed, ok+failed)
	}
}

// takeover: east-1 has a cart of its own, not exported; west-1 exports cart as global-only,
// which takes the plain name over in east-1, then releases it.
func (n *nameLab) takeover(t *testing.T) {
	f, c, east, west := n.f, n.c, n.east, n.west
	localCart := createLocalService(t, east, "cart")
	f.AddBackend(east, east.Zones[0], shop, "cart")
	f.Export(west, shop, "cart", "global-only", nil)
	f.AddBackend(west, west.Zones[0], shop, "cart")
	plain := "cart.shop.svc.cluster.local"
	start := time.Now()
	f.Eventually(plain+" taken over in east-1", 60*time.Second, func() (bool, string) {
		r := getFresh(t.Context(), c, plain+":80")
		return r.OK() && r.Cluster == west.Name, fmt.Sprintf("%+v", r)
	})
	t.Logf("%s reached the global service %v after the export", plain, time.Since(start).Round(10*time.Millisecond))
	// The status follows what clients see: active once meshfed-dns found CoreDNS forwarding the
	// name (it checks every second here; the hub looks again every 5 s while it waits).
	seen := time.Now()
	f.Eventually("GlobalService says the takeover is active in "+east.Name, 15*time.Second, func() (bool, string) {
		var gs meshfedv1.GlobalService
		if err := f.Hub.Client.Get(t.Context(), client.ObjectKey{Namespace: shop, Name: "cart"}, &gs); err != nil {
			return false, err.Error()
		}
		return slices.Contains(gs.Status.TakeoverActiveIn, east.Name), fmt.Sprint(gs.Status.TakeoverActiveIn, gs.Status.Conditions)
	})
	t.Logf("the GlobalService reported the takeover active %v after clients reached it", time.Since(seen).Round(10*time.Millisecond))
	if ip, err := c.Resolve(t.Context(), plain); err != nil || ip != clusterIP(t, east, wellknown.DerivedServiceName("cart")) {
		t.Errorf("%s resolves to %v (%v), want cart-global's ClusterIP", plain, ip, err)
	}
	ok, failed := callByName(t.Context(), c, []string{plain}, 100)
	if failed > 0 {
		t.Errorf("%d of %d requests to %s failed under takeover", failed, ok+failed, plain)
	}

	// Released: scope global, no takeover. The name is east-1's own Service again.
	setScope(t, west, "cart", "global")
	start = time.Now()
	f.Eventually(plain+" back to the local Service", 30*time.Second, func() (bool, string) {
		ip, err := c.Resolve(t.Context(), plain)
		r := getFresh(t.Context(), c, plain+":80")
		return err == nil && ip == localCart && r.OK() && r.Cluster == east.Name, fmt.Sprintf("%v %v %+v", ip, err, r)
	})
	t.Logf("%s resolved to the local Service again %v after the release", plain, time.Since(start).Round(10*time.Millisecond))
	if _, failed := callByName(t.Context(), c, []string{plain}, 100); failed > 0 {
		t.Errorf("%d requests to the released %s failed", failed, plain)
	}
}

// removed: cart leaves the federation; its federation names get NXDOMAIN, its local name stays.
func (n *nameLab) removed(t *testing.T) {
	f, c := n.f, n.c
	names := []string{"cart.shop.svc.clusterset.local", "cart.shop.mesh.internal"}
	for _, name := range names {
		if _, err := c.Resolve(t.Context(), name); err != nil {
			t.Fatalf("%s does not resolve before the removal: %v", name, err)
		}
	}
	setScope(t, n.west, "cart", "")
	start := time.Now()
	for _, name := range names {
		f.Eventually(name+" NXDOMAIN", 60*time.Second, func() (bool, string) {
			resp, err := c.Query(t.Context(), name, dns.TypeA)
			if err != nil {
				return false, err.Error()
			}
			return resp.Rcode == dns.RcodeNameError, dns.RcodeToString[resp.Rcode]
		})
		t.Logf("%s NXDOMAIN %v after the removal", name, time.Since(start).Round(10*time.Millisecond))
	}
	if ip, err := c.Resolve(t.Context(), "cart.shop.svc.cluster.local"); err != nil || ip != clusterIP(t, n.east, "cart") {
		t.Errorf("cart.shop.svc.cluster.local = %v (%v) after the removal, want the local Service", ip, err)
	}
}

// callByName sends n GETs to each name in turn, one after the other, and counts the outcomes.
func callByName(ctx context.Context, c *system.Client, names []string, n int) (ok, failed int) {
	for i := range n {
		if c.Get(ctx, names[i%len(names)]+":80").OK() {
			ok++
		} else {
			failed++
		}
	}
	return ok, failed
}

// getFresh sends a GET on a new connection, so that the name is resolved again.
func getFresh(ctx context.Context, c *system.Client, addr string) system.Reply {
	c.HTTP.CloseIdleConnections()
	return c.Get(ctx, addr)
}

func clusterIP(t *testing.T, m *system.Member, name string) netip.Addr {
	t.Helper()
	var svc corev1.Service
	if err := m.Client().Get(t.Context(), client.ObjectKey{Namespace: shop, Name: name}, &svc); err != nil {
		t.Fatal(err)
	}
	return netip.MustParseAddr(svc.Spec.ClusterIP)
}

// createLocalService creates shop/name in m without a scope: a cluster-local Service.
func createLocalService(t *testing.T, m *system.Member, name string) netip.Addr {
	t.Helper()
	http := "http"
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: shop, Name: name},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
			{Name: "http", Port: system.HTTPPort, AppProtocol: &http, TargetPort: intstr.FromInt32(system.BackendHTTPPort)},
			{Name: "tcp", Port: system.TCPPort, TargetPort: intstr.FromInt32(system.BackendTCPPort)},
		}},
	}
	if err := m.Client().Create(t.Context(), svc); err != nil {
		t.Fatal(err)
	}
	return netip.MustParseAddr(svc.Spec.ClusterIP)
}

// setScope sets (or, with "", removes) the scope annotation of shop/name in m.
func setScope(t *testing.T, m *system.Member, name, scope string) {
	t.Helper()
	var svc corev1.Service
	if err := m.Client().Get(t.Context(), client.ObjectKey{Namespace: shop, Name: name}, &svc); err != nil {
		t.Fatal(err)
	}
	if scope == "" {
		delete(svc.Annotations, wellknown.ServiceScopeKey)
	} else {
		svc.Annotations[wellknown.ServiceScopeKey] = scope
	}
	if err := m.Client().Update(t.Context(), &svc); err != nil {
		t.Fatal(err)
	}
}
