package scenarios

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/e2e/system"
	"github.com/meshfed/meshfed/waypoint/table"
)

// TestScopesAndTunnels: east-1 and central-1 in segment blue, west-1 in segment green.
// A segment service stays in its segment; a cluster service keeps traffic in the client's
// cluster; a TCP echo in west-1 is reached from east-1 across networks through HBONE, over
// HTTP/2 in one namespace and HTTP/3 in another, with half-close carried end to end; a
// service whose remote endpoints are aggregated is reached in west-1 as one endpoint, which
// west-1's waypoint balances.
func TestScopesAndTunnels(t *testing.T) {
	topo := system.DefaultTopology()
	topo[0].Segment, topo[1].Segment, topo[2].Segment = "blue", "blue", "green"
	f := system.Start(t, topo)
	for name, domain := range map[string]string{"blue": wellknown.DefaultSegmentDomain, "green": "green.example"} {
		seg := &meshfedv1.Segment{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: meshfedv1.SegmentSpec{Domain: domain}}
		if err := f.Hub.Client.Create(t.Context(), seg); err != nil {
			t.Fatal(err)
		}
	}
	east, central, west := f.Member("east-1"), f.Member("central-1"), f.Member("west-1")

	t.Run("segment", func(t *testing.T) {
		f.Export(east, shop, "cart", "segment", nil)
		f.AddBackend(east, east.Zones[0], shop, "cart")
		wpCentral := f.DeployWaypoint(central, shop, system.WaypointOptions{})
		f.DeployWaypoint(west, shop, system.WaypointOptions{})
		c := f.AddClient(central, "seg-client")
		target := c.Target(wpCentral, shop, "cart", system.HTTPPort)
		f.Eventually("central-1 reaches cart in east-1", 30*time.Second, func() (bool, string) {
			r := c.Get(t.Context(), target)
			return r.OK() && r.Cluster == "east-1", fmt.Sprintf("%+v", r)
		})
		// Never imported into west-1 (segment green): no derived Service, no ServiceImport.
		var d corev1.Service
		err := west.Client().Get(t.Context(), client.ObjectKey{Namespace: shop, Name: wellknown.DerivedServiceName("cart")}, &d)
		if !apierrors.IsNotFound(err) {
			t.Errorf("cart's derived Service in west-1 (segment green): err %v", err)
		}
	})

	t.Run("cluster", func(t *testing.T) {
		for _, m := range []*system.Member{east, central} {
			f.Export(m, shop, "db", "cluster", nil)
			f.AddBackend(m, m.Zones[0], shop, "db")
		}
		c := f.AddClient(central, "cluster-client")
		target := c.Target(f.DeployWaypointOnce(central, shop), shop, "db", system.HTTPPort)
		f.Eventually("db answers in central-1", 30*time.Second, func() (bool, string) {
			r := c.Get(t.Context(), target)
			return r.OK(), fmt.Sprintf("%+v", r)
		})
		for i := range 100 {
			if r := c.Get(t.Context(), target); !r.OK() || r.Cluster != "central-1" {
				t.Fatalf("request %d of a cluster-scoped service: %+v, want central-1", i, r)
			}
		}
	})

	for _, transport := range []string{"h2", "h3"} {
		t.Run("tcp-"+transport, func(t *testing.T) {
			ns := "tcp-" + transport
			f.Export(west, ns, "echo", "global", nil)
			f.AddBackend(west, west.Zones[0], ns, "echo")
			wpEast := f.DeployWaypoint(east, ns, system.WaypointOptions{Transport: transport})
			f.DeployWaypoint(west, ns, system.WaypointOptions{Transport: transport})
			c := f.AddClient(east, "tcp-client-"+transport)
			target := c.Target(wpEast, ns, "echo", system.TCPPort)
			payload := make([]byte, 256<<10)
			_, _ = rand.Read(payload)
			f.Eventually("a TCP echo from west-1 through HBONE/"+transport, 30*time.Second, func() (bool, string) {
				err := echoOnce(c, target, payload)
				return err == nil, fmt.Sprint(err)
			})
			for i := range 20 {
				if err := echoOnce(c, target, payload); err != nil {
					t.Fatalf("echo %d over %s: %v", i, transport, err)
				}
			}
			// The tunnel was the only way: a direct connection to the backend from east-1 fails.
			var eps []string
			for _, b := range f.Backends(west, ns, "echo") {
				eps = append(eps, b.Addr.String())
			}
			if conn, err := c.Pod.Dial(t.Context(), "tcp", net.JoinHostPort(eps[0], "9000")); err == nil {
				_ = conn.Close()
				t.Errorf("east-1 reaches west-1's pod %s directly; the networks are not isolated", eps[0])
			}
		})
	}

	t.Run("aggregated", func(t *testing.T) { aggregatedRemoteCluster(t, f, east, west) })
}

// aggregatedRemoteCluster: web exported by west-1 with meshfed.io/remote-endpoints:
// aggregated, two backends per zone. East-1's waypoint routes west-1 (another network) as one
// endpoint of weight 4, tunnelled to the service by name; west-1's waypoint balances those
// tunnels over its own four backends: TCP echoes from east-1, each a tunnel of its own, all
// succeed and reach more than one of them, and HTTP requests are answered by west-1.
func aggregatedRemoteCluster(t *testing.T, f *system.Federation, east, west *system.Member) {
	const ns = "agg"
	f.Export(west, ns, "web", "global", map[string]string{wellknown.RemoteEndpointsKey: "aggregated"})
	for _, z := range west.Zones {
		f.AddBackend(west, z, ns, "web")
		f.AddBackend(west, z, ns, "web")
	}
	wpEast := f.DeployWaypoint(east, ns, system.WaypointOptions{})
	wpWest := f.DeployWaypoint(west, ns, system.WaypointOptions{})
	f.Eventually("east-1 routes west-1 as one endpoint", 60*time.Second, func() (bool, string) {
		var d table.DebugTable
		if err := wpEast.Debug(&d); err != nil {
			return false, err.Error()
		}
		for _, r := range d.Routes {
			if r.Service == ns+"/web" && r.Port == system.HTTPPort {
				ok := r.Aggregated && len(r.Endpoints) == 1 && r.Endpoints[0].Cluster == west.Name &&
					r.Endpoints[0].Target == table.ServiceTarget(r.Hostname, system.HTTPPort) && r.Endpoints[0].Weight == 4
				return ok, fmt.Sprintf("%+v", r.Endpoints)
			}
		}
		return false, "no route of agg/web"
	})
	c := f.AddClient(east, "agg-client")
	tcp := c.Target(wpEast, ns, "web", system.TCPPort)
	payload := []byte("aggregated")
	f.Eventually("a TCP echo from west-1 through its waypoint", 30*time.Second, func() (bool, string) {
		err := echoOnce(c, tcp, payload)
		return err == nil, fmt.Sprint(err)
	})
	for i := range 30 {
		if err := echoOnce(c, tcp, payload); err != nil {
			t.Fatalf("echo %d: %v", i, err)
		}
	}
	var d table.DebugTable
	if err := wpWest.Debug(&d); err != nil {
		t.Fatal(err)
	}
	reached := 0
	for _, r := range d.Inbound {
		if r.Service != ns+"/web" || r.Port != system.TCPPort {
			continue
		}
		for _, e := range r.Endpoints {
			if e.Connects > 0 {
				reached++
			}
		}
	}
	if reached < 2 {
		t.Fatalf("west-1's waypoint connected the tunnels to %d of its backends, want more than one: %+v", reached, d.Inbound)
	}
	http := c.Target(wpEast, ns, "web", system.HTTPPort)
	for i, r := range c.Load(t.Context(), http, 40, 2*time.Second, nil) {
		if !r.OK() || r.Cluster != west.Name {
			t.Fatalf("HTTP request %d: %+v, want an answer from west-1", i, r)
		}
	}
}

// echoOnce sends payload, half-closes, and expects the same bytes back followed by EOF.
func echoOnce(c *system.Client, target string, payload []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := c.Pod.Dial(ctx, "tcp", target)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	errc := make(chan error, 1)
	go func() {
		_, err := conn.Write(payload)
		if err == nil {
			err = conn.(*net.TCPConn).CloseWrite()
		}
		errc <- err
	}()
	got, err := io.ReadAll(conn)
	if werr := <-errc; werr != nil {
		return fmt.Errorf("write: %w", werr)
	}
	if err != nil {
		return fmt.Errorf("read after %d bytes: %w", len(got), err)
	}
	if !bytes.Equal(got, payload) {
		return fmt.Errorf("echo returned %d bytes, want the %d sent", len(got), len(payload))
	}
	return nil
}
