package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
)

// TestRunDrains stops a waypoint under steady HTTP/1.1 and h2c traffic, with a TCP connection open, and
// checks the drain: /readyz fails at once while requests are still served; the listeners
// then close (new connections are refused); every request sent before that is answered 200,
// the ones in flight included, and the open TCP connection still carries data both ways; a
// connection that never ends is closed at the drain timeout, when Run returns.
func TestRunDrains(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a drain of several seconds")
	}
	emb := startStore(t)
	const backendDelay = 100 * time.Millisecond
	httpPort, tcpPort := writeWebService(t, emb.Endpoints(), slowHTTPBackend(t, "127.0.0.2", backendDelay), echoBackend(t, "127.0.0.2"))

	o := DefaultOptions(func(string) string { return "" })
	o.Namespace, o.Cluster, o.Network, o.Zone = "shop", "east", "net-a", "z1"
	o.EtcdEndpoints, o.ListenHost, o.AllowLoopbackEndpoints = emb.Endpoints(), "127.0.0.1", true
	o.ShutdownDelay, o.DrainTimeout = 1500*time.Millisecond, 4*time.Second
	o.AdminAddr = freeAddr(t)
	admin := "http://" + o.AdminAddr
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(runCtx, o, slog.New(slog.DiscardHandler)) }()
	defer func() {
		stop()
		<-done
	}()
	waitFor(t, "readyz", func() bool { return get(admin+"/readyz") == http.StatusOK })
	httpAddr, tcpAddr := "127.0.0.1:"+strconv.Itoa(httpPort), "127.0.0.1:"+strconv.Itoa(tcpPort)
	waitFor(t, "the HTTP listener", func() bool { return get("http://"+httpAddr+"/") == http.StatusOK })

	inFlight, err := net.Dial("tcp", tcpAddr) // carries data after the listeners closed
	if err != nil {
		t.Fatal(err)
	}
	defer inFlight.Close()
	stuck, err := net.Dial("tcp", tcpAddr) // never ends: closed at the drain timeout
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	echo(t, inFlight, "before")
	echo(t, stuck, "before")

	load := startLoad(t, httpAddr, 4, 2)
	time.Sleep(500 * time.Millisecond)
	stopped := time.Now()
	load.stopAt.Store(stopped.UnixNano())
	stop()
	waitFor(t, "readyz to fail", func() bool { return get(admin+"/readyz") == http.StatusServiceUnavailable })
	if since := time.Since(stopped); since > o.ShutdownDelay/2 {
		t.Logf("readyz failed only %s after the stop (machine busy?)", since)
	}
	waitFor(t, "the listeners to close", func() bool {
		c, err := net.DialTimeout("tcp", httpAddr, time.Second)
		if err == nil {
			_ = c.Close()
		}
		return errors.Is(err, syscall.ECONNREFUSED)
	})
	closedAfter := time.Since(stopped)
	if closedAfter < o.ShutdownDelay {
		t.Errorf("listeners closed %s after the stop, before the shutdown delay %s", closedAfter, o.ShutdownDelay)
	}
	// Counted by when each request was sent, not by when this goroutine read the count: a
	// readyz poll that a loaded machine held past the delay would otherwise take its baseline
	// after the listeners closed.
	if n := load.sentAfterStop.Load(); n == 0 {
		t.Errorf("no request sent after the stop had been answered when the listeners closed (%d answered in all)", load.ok.Load())
	}
	echo(t, inFlight, "during the drain")
	_ = inFlight.Close()
	load.wait()
	var runErr error
	select {
	case runErr = <-done:
		done <- runErr
	case <-time.After(o.ShutdownDelay + o.DrainTimeout + 15*time.Second):
		t.Fatal("Run did not return after the drain timeout")
	}
	took := time.Since(stopped)
	if runErr != nil {
		t.Errorf("Run: %v", runErr)
	}
	if took < o.ShutdownDelay+o.DrainTimeout {
		t.Errorf("Run returned %s after the stop, before the connection that never ends was given %s", took, o.ShutdownDelay+o.DrainTimeout)
	}
	_ = stuck.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := stuck.Read(make([]byte, 1)); n != 0 || err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the connection still open at the drain timeout was not closed: read %d, %v", n, err)
	}
	t.Logf("%d requests answered, %d of them sent after the stop; listeners closed %s after the stop; Run returned after %s",
		load.ok.Load(), load.sentAfterStop.Load(), closedAfter.Round(time.Millisecond), took.Round(time.Millisecond))
	if load.ok.Load() == 0 {
		t.Fatal("no request was answered")
	}
	for _, err := range load.lost() {
		t.Errorf("request lost: %v", err)
	}
}

// load sends GET requests from several workers, HTTP/1.1 and h2c, one after the other on
// kept-alive connections, until a new connection is refused (the listener closed).
type load struct {
	ok atomic.Int64
	// stopAt is when the test stopped the waypoint (UnixNano, 0 before); sentAfterStop counts
	// the requests answered 200 that were sent after it.
	stopAt        atomic.Int64
	sentAfterStop atomic.Int64
	wg            sync.WaitGroup
	mu            sync.Mutex
	errs          []error
}

func startLoad(t *testing.T, addr string, h1Workers, h2cWorkers int) *load {
	l := &load{}
	for i := range h1Workers + h2cWorkers {
		tr := &http.Transport{MaxIdleConnsPerHost: 1}
		if i >= h1Workers { // HTTP/2 with prior knowledge: drained by GOAWAY
			tr.Protocols = new(http.Protocols)
			tr.Protocols.SetUnencryptedHTTP2(true)
		}
		client := &http.Client{Transport: tr, Timeout: 20 * time.Second}
		l.wg.Go(func() {
			defer client.CloseIdleConnections()
			for {
				sent := time.Now().UnixNano()
				resp, err := client.Get("http://" + addr + "/")
				if errors.Is(err, syscall.ECONNREFUSED) {
					return // the listener has closed: this request never arrived
				}
				if err != nil {
					l.fail(err)
					return
				}
				body, err := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK || string(body) != "ok" || resp.ProtoMajor != 1+min(i/h1Workers, 1) {
					l.fail(errors.Join(err, errors.New(resp.Status+" "+string(body))))
					return
				}
				l.ok.Add(1)
				if at := l.stopAt.Load(); at != 0 && sent > at {
					l.sentAfterStop.Add(1)
				}
			}
		})
	}
	t.Cleanup(l.wg.Wait)
	return l
}

func (l *load) fail(err error) {
	l.mu.Lock()
	l.errs = append(l.errs, err)
	l.mu.Unlock()
}

func (l *load) wait() { l.wg.Wait() }

func (l *load) lost() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.errs
}

// echo sends msg on c and expects it back from the echo backend.
func echo(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	defer func() { _ = c.SetDeadline(time.Time{}) }()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatalf("echo %s: %v", msg, err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != msg {
		t.Fatalf("echo %s: got %q, %v", msg, got, err)
	}
}

// slowHTTPBackend answers every request with "ok" after delay, so that requests are in
// flight whenever the waypoint is stopped.
func slowHTTPBackend(t *testing.T, host string, delay time.Duration) netipPort {
	t.Helper()
	l, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(delay)
		_, _ = io.WriteString(w, "ok")
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return netipPort{host: host, port: l.Addr().(*net.TCPAddr).Port}
}

// writeWebService writes service web with an HTTP and a TCP port to the store and returns
// their waypoint ports.
func writeWebService(t *testing.T, endpoints []string, httpBackend, tcpBackend netipPort) (httpPort, tcpPort int) {
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
	port := func() int {
		_, p, _ := net.SplitHostPort(freeAddr(t))
		n, _ := strconv.Atoi(p)
		return n
	}
	httpPort, tcpPort = port(), port()
	recs := []store.Record{
		store.NewServiceRecord(&model.PublishedService{
			GlobalService: model.GlobalService{
				Namespace: "shop", Name: "web", Domain: wellknown.DefaultSegmentDomain, Hostname: "web.shop." + wellknown.DefaultSegmentDomain,
				Scope: model.ScopeGlobal, Type: model.ServiceTypeClusterSetIP,
				Ports:        []model.Port{{Name: "http", Port: 80, Protocol: "TCP"}, {Name: "tcp", Port: 81, Protocol: "TCP"}},
				Distribution: model.Distribution{Mode: model.ModePreferClose},
				Imports:      []model.Import{{Cluster: "east", From: []string{"east"}}},
			},
			WaypointPorts: []int32{int32(httpPort), int32(tcpPort)},
		}),
		store.NewEndpointsRecord(&model.PublishedEndpoints{
			Namespace: "shop", Domain: wellknown.DefaultSegmentDomain, Name: "web", Cluster: "east", Scope: model.ScopeGlobal,
			Endpoints: []model.Endpoint{{
				Address:  httpBackend.host,
				Ports:    []model.EndpointPort{{Name: "http", Port: int32(httpBackend.port)}, {Name: "tcp", Port: int32(tcpBackend.port)}},
				Locality: model.Locality{Network: "net-a", Zone: "z1", Cluster: "east"}, Ready: true, Serving: true,
			}},
		}),
	}
	for _, r := range recs {
		if _, err := w.Put(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	return httpPort, tcpPort
}
