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
)

// TestRunReadyOnlyWithTable starts the waypoint while its store is down: it is live but not
// ready, and says why; once the store comes up at that address, the waypoint turns ready, and
// by then the listener of the service the store holds accepts.
func TestRunReadyOnlyWithTable(t *testing.T) {
	storeAddr := freeAddr(t)
	o := DefaultOptions(func(string) string { return "" })
	o.Namespace, o.Cluster, o.Network, o.Zone = "shop", "east", "net-a", "z1"
	o.EtcdEndpoints, o.ListenHost, o.AllowLoopbackEndpoints = []string{"http://" + storeAddr}, "127.0.0.1", true
	o.ShutdownDelay, o.DrainTimeout = 0, time.Second
	o.AdminAddr = freeAddr(t)
	admin := "http://" + o.AdminAddr
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(runCtx, o, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("waypoint: %v", err)
		}
	})
	waitFor(t, "healthz", func() bool { return get(admin+"/healthz") == http.StatusOK })
	for range 5 {
		code, body := getStatusBody(admin + "/readyz")
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "not synced with the store") {
			t.Fatalf("/readyz without a store = %d %q, want 503 naming the store", code, body)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// The store gets its service first, then becomes reachable at storeAddr (a relay), so
	// the first snapshot the waypoint can read already holds it.
	emb := startStore(t)
	writeService(t, emb.Endpoints(), echoBackend(t, "127.0.0.2"))
	relay(t, storeAddr, strings.TrimPrefix(emb.Endpoints()[0], "http://"))
	up := time.Now()
	var readyAt time.Time
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if get(admin+"/readyz") == http.StatusOK {
			readyAt = time.Now()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the waypoint did not turn ready after its store came up")
		}
	}
	// Ready means the table has the service and its listener is open: no wait here.
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(waypointPort), time.Second)
	if err != nil {
		t.Fatalf("ready, but the service's listener refuses: %v", err)
	}
	_ = c.Close()
	t.Logf("ready %s after the store became reachable", readyAt.Sub(up).Round(time.Millisecond))
}

func getStatusBody(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// relay forwards TCP connections from listen to target until the test ends.
func relay(t *testing.T, listen, target string) {
	t.Helper()
	l, err := net.Listen("tcp", listen)
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
				u, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer u.Close()
				go func() { _, _ = io.Copy(u, c); _ = u.(*net.TCPConn).CloseWrite() }()
				_, _ = io.Copy(c, u)
			}()
		}
	}()
}
