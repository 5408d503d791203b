package waypoint

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
)

// httpBackend is an HTTP server on its own loopback address that answers every request with
// its name (header X-Backend and body) and the status set in status (200 when 0). It serves
// HTTP/1.1 and h2c with prior knowledge. A gRPC-ish request (content-type application/grpc)
// gets its body echoed and a grpc-status trailer. stop closes its listener and every
// connection; start serves again on the same address.
type httpBackend struct {
	t      *testing.T
	name   string
	ip     string
	port   int32
	status atomic.Int32
	delay  atomic.Int64 // nanoseconds to wait before answering
	hits   atomic.Int64
	protos atomic.Value // the last request's r.Proto

	mu  sync.Mutex
	srv *http.Server
	wg  sync.WaitGroup
}

func startHTTPBackend(t *testing.T, name, ip string) *httpBackend {
	t.Helper()
	b := &httpBackend{t: t, name: name, ip: ip}
	b.start()
	t.Cleanup(b.stop)
	return b
}

// start listens on the backend's address (a new port the first time) and serves.
func (b *httpBackend) start() {
	b.t.Helper()
	var l net.Listener
	var err error
	for attempt := 0; attempt < 50; attempt++ { // the old port may linger briefly after stop
		l, err = net.Listen("tcp", net.JoinHostPort(b.ip, strconv.Itoa(int(b.port))))
		if err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		b.t.Fatalf("failed to listen on %s:%d: %v", b.ip, b.port, err)
	}
	b.port = int32(l.Addr().(*net.TCPAddr).Port)
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: http.HandlerFunc(b.serveHTTP), Protocols: p, ReadHeaderTimeout: waitTimeout}
	b.mu.Lock()
	b.srv = srv
	b.mu.Unlock()
	b.wg.Go(func() { _ = srv.Serve(l) })
}

// stop closes the listener and every connection, as a crashed pod would.
func (b *httpBackend) stop() {
	b.mu.Lock()
	srv := b.srv
	b.srv = nil
	b.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
	b.wg.Wait()
}

func (b *httpBackend) serveHTTP(w http.ResponseWriter, r *http.Request) {
	b.hits.Add(1)
	b.protos.Store(r.Proto)
	if d := time.Duration(b.delay.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("X-Backend", b.name)
	if r.Header.Get("Content-Type") == "application/grpc" {
		msg, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Trailer", "Grpc-Status")
		_, _ = w.Write(msg)
		w.Header().Set("Grpc-Status", "0")
		return
	}
	_, _ = io.Copy(io.Discard, r.Body)
	if code := int(b.status.Load()); code != 0 {
		w.WriteHeader(code)
	}
	_, _ = io.WriteString(w, b.name)
}

func (b *httpBackend) endpoint(loc model.Locality) model.Endpoint {
	ep := endpoint(b.ip, b.port, loc)
	ep.Ports[0].Name = "http"
	return ep
}

// httpService is shop/echo with one port named name (appProtocol appProto) on waypoint
// port wp.
func httpService(wp int32, mode model.Mode, name, appProto string) *store.ServiceRecord {
	return edit(service(wp, mode), func(s *model.PublishedService) {
		s.Ports[0].Name, s.Ports[0].AppProtocol = name, appProto
	})
}

// newClient is an HTTP/1.1 client with a keep-alive pool to the waypoint.
func newClient(t *testing.T) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 32, IdleConnTimeout: 30 * time.Second}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: waitTimeout}
}

// reply is what one request through the waypoint got.
type reply struct {
	code    int
	backend string
	cluster string
	err     error
}

// get sends one GET to the waypoint port and reads the whole answer.
func get(ctx context.Context, c *http.Client, port int32) reply {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+itoa(port)+"/", nil)
	if err != nil {
		return reply{err: err}
	}
	resp, err := c.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{err: err}
	}
	out := reply{code: resp.StatusCode, backend: resp.Header.Get("X-Backend"), cluster: resp.Header.Get(HeaderCluster)}
	if out.backend != "" && string(body) != out.backend {
		out.err = fmt.Errorf("body %q does not name backend %s", body, out.backend)
	}
	return out
}

// tally counts replies by backend; failed requests (transport error or status other than 200)
// count under "".
type tally struct {
	mu     sync.Mutex
	counts map[string]int
	failed []reply
}

func (t *tally) add(r reply) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts == nil {
		t.counts = make(map[string]int)
	}
	if r.err != nil || r.code != http.StatusOK {
		t.counts[""]++
		t.failed = append(t.failed, r)
		return
	}
	t.counts[r.backend]++
}

func (t *tally) snapshot() map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]int, len(t.counts))
	for k, v := range t.counts {
		out[k] = v
	}
	return out
}

// requests sends n GETs, workers at a time, and tallies them.
func requests(t *testing.T, c *http.Client, port int32, n, workers int) *tally {
	t.Helper()
	var tl tally
	jobs := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range jobs {
				tl.add(get(t.Context(), c, port))
			}
		})
	}
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	wg.Wait()
	if len(tl.failed) > 0 {
		t.Logf("first failed request: %+v", tl.failed[0])
	}
	return &tl
}

// steady sends GETs at rate per second until stop is closed or limit passes, each reply
// tallied with its send time relative to start; it returns when every request has finished.
func steady(ctx context.Context, c *http.Client, port int32, rate int, start time.Time, limit time.Duration, stop <-chan struct{}, onReply func(time.Duration, reply)) int {
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	var wg sync.WaitGroup
	sent := 0
	for {
		select {
		case <-stop:
		case <-deadline.C:
		case <-ctx.Done():
		case <-tick.C:
			sent++
			at := time.Since(start)
			wg.Go(func() { onReply(at, get(ctx, c, port)) })
			continue
		}
		wg.Wait()
		return sent
	}
}
