package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/federation/store/embedded"
	"github.com/meshfed/meshfed/internal/testport"
)

// TestRunServesFromStore runs the assembled waypoint against a real embedded etcd: a service
// written to the store gets a listener on its waypoint port that reaches a real backend, and the
// admin server reports ready and lists the endpoint.
func TestRunServesFromStore(t *testing.T) {
	emb := startStore(t)
	writeService(t, emb.Endpoints(), echoBackend(t, "127.0.0.2"))

	o := DefaultOptions(func(string) string { return "" })
	o.Namespace, o.Cluster, o.Network, o.Zone = "shop", "east", "net-a", "z1"
	o.EtcdEndpoints, o.ListenHost, o.AllowLoopbackEndpoints = emb.Endpoints(), "127.0.0.1", true
	admin := runReady(t, o)
	echoThroughListener(t, "the waypoint listener", "127.0.0.1:"+strconv.Itoa(waypointPort))
	resp, err := http.Get(admin + "/debug/endpoints")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "127.0.0.2") {
		t.Errorf("/debug/endpoints lacks the endpoint: %s", body)
	}
	if !strings.Contains(string(body), `"crossNetwork": "disabled: no certificate files`) {
		t.Errorf("/debug/endpoints does not say HBONE is off without certificate files: %s", body)
	}
}

func TestValidate(t *testing.T) {
	o := DefaultOptions(func(k string) string {
		return map[string]string{"POD_NAMESPACE": "shop", "MESHFED_CLUSTER": "east", "MESHFED_NETWORK": "a", "MESHFED_ETCD_ENDPOINTS": "http://127.0.0.1:2379, http://127.0.0.2:2379"}[k]
	})
	if err := o.Validate(); err != nil || len(o.EtcdEndpoints) != 2 {
		t.Fatalf("options from the environment: %v %v", err, o.EtcdEndpoints)
	}
	o.EtcdEndpoints = nil
	if o.Validate() == nil {
		t.Error("no store endpoints accepted")
	}
}

// waypointPort is the listener port the test's service record allocates.
var waypointPort int

func writeService(t *testing.T, endpoints []string, backend netipPort) {
	t.Helper()
	c, err := store.Connect(t.Context(), store.ClientConfig{Endpoints: endpoints})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	w := store.NewWriter(c, store.WriterOptions{Identity: "test"})
	if err := w.Campaign(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(freeAddr(t))
	waypointPort, _ = strconv.Atoi(port)
	recs := []store.Record{
		store.NewServiceRecord(&model.PublishedService{
			GlobalService: model.GlobalService{
				Namespace: "shop", Name: "echo", Domain: wellknown.DefaultSegmentDomain, Hostname: "echo.shop." + wellknown.DefaultSegmentDomain,
				Scope: model.ScopeGlobal, Type: model.ServiceTypeClusterSetIP,
				Ports:        []model.Port{{Name: "tcp", Port: 80, Protocol: "TCP"}},
				Distribution: model.Distribution{Mode: model.ModePreferClose},
				Imports:      []model.Import{{Cluster: "east", From: []string{"east"}}},
			},
			WaypointPorts: []int32{int32(waypointPort)},
		}),
		store.NewEndpointsRecord(&model.PublishedEndpoints{
			Namespace: "shop", Domain: wellknown.DefaultSegmentDomain, Name: "echo", Cluster: "east", Scope: model.ScopeGlobal,
			Endpoints: []model.Endpoint{{
				Address: backend.host, Ports: []model.EndpointPort{{Name: "tcp", Port: int32(backend.port)}},
				Locality: model.Locality{Network: "net-a", Zone: "z1", Cluster: "east"}, Ready: true, Serving: true,
			}},
		}),
	}
	for _, r := range recs {
		if _, err := w.Put(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
}

type netipPort struct {
	host string
	port int
}

// echoBackend serves TCP echo on host (a loopback address) until the test ends.
// echoThroughListener waits until addr accepts connections, then checks that a message sent
// through it comes back from the echo backend.
func echoThroughListener(t *testing.T, what, addr string) {
	t.Helper()
	waitFor(t, what, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	})
	if err := echoThrough(addr, "ping"); err != nil {
		t.Fatalf("echo through %s: %v", what, err)
	}
}

// startStore starts an embedded etcd for one test, on plain HTTP, stopped at its end.
func startStore(t *testing.T) *embedded.Server {
	t.Helper()
	emb, err := embedded.Start(t.Context(), embedded.Config{
		DataDir: t.TempDir(), ClientURL: "http://" + freeAddr(t), PeerURL: "http://" + freeAddr(t),
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	return emb
}

func echoBackend(t *testing.T, host string) netipPort {
	t.Helper()
	l, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return netipPort{host: host, port: l.Addr().(*net.TCPAddr).Port}
}

// runReady runs the waypoint with o, its admin server on a free address, until the test
// ends (failing it if Run returns an error), and returns the admin URL once /readyz answers.
func runReady(t *testing.T, o Options) string {
	t.Helper()
	o.AdminAddr = freeAddr(t)
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(runCtx, o, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("waypoint: %v", err)
		}
	})
	admin := "http://" + o.AdminAddr
	waitFor(t, "readyz", func() bool { return get(admin+"/readyz") == http.StatusOK })
	return admin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	return testport.Addr(t, "127.0.0.1")
}

func get(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
