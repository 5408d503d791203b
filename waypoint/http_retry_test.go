package waypoint

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/waypoint/http1"
	"github.com/meshfed/meshfed/waypoint/table"
)

// send makes one request with a body of size bytes (known length) and header h.
func send(ctx context.Context, c *http.Client, port int32, method string, size int, h http.Header) reply {
	req, err := http.NewRequestWithContext(ctx, method, "http://127.0.0.1:"+itoa(port)+"/", bytes.NewReader(make([]byte, size)))
	if err != nil {
		return reply{err: err}
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return reply{code: resp.StatusCode, backend: resp.Header.Get("X-Backend"), cluster: resp.Header.Get(HeaderCluster), err: err}
}

func TestHTTPRetryPolicy(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Outlier.Disabled = true })
	bad, good := startHTTPBackend(t, "bad", "127.0.0.81"), startHTTPBackend(t, "good", "127.0.0.82")
	bad.status.Store(http.StatusServiceUnavailable)
	port := httpRoute(t, e, bad, good)
	c := newClient(t)
	key := http.Header{"Idempotency-Key": {"k1"}}
	tests := []struct {
		name   string
		method string
		size   int
		header http.Header
		// retried: every request ends on the good endpoint; otherwise those that land on the
		// bad one first get its 503.
		retried bool
	}{
		{name: "GET", method: http.MethodGet, retried: true},
		{name: "DELETE", method: http.MethodDelete, retried: true},
		{name: "PUT with a small body", method: http.MethodPut, size: 1 << 10, retried: true},
		{name: "POST", method: http.MethodPost, size: 1 << 10},
		{name: "POST with Idempotency-Key", method: http.MethodPost, size: 1 << 10, header: key, retried: true},
		{name: "PUT with a 100 KiB body", method: http.MethodPut, size: 100 << 10},
		{name: "POST with Idempotency-Key and a 64 KiB body", method: http.MethodPost, size: http1.MaxReplayBody, header: key, retried: true},
	}
	const n = 40
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := bad.hits.Load()
			codes := map[int]int{}
			for range n {
				r := send(t.Context(), c, port, tt.method, tt.size, tt.header)
				if r.err != nil {
					t.Fatalf("request: %v", r.err)
				}
				if want := map[int]string{200: "east", 503: "east"}[r.code]; r.cluster != want {
					t.Fatalf("status %d from %s with %s %q", r.code, r.backend, HeaderCluster, r.cluster)
				}
				codes[r.code]++
			}
			// Two endpoints picked at random: the bad one is first for about half.
			hits := bad.hits.Load() - before
			t.Logf("%v, bad endpoint tried %d times", codes, hits)
			if hits < n/5 {
				t.Fatalf("the bad endpoint was tried %d times of %d, want about half", hits, n)
			}
			if tt.retried && codes[200] != n {
				t.Fatalf("codes %v, want every request retried to a 200", codes)
			}
			if !tt.retried && codes[503] != int(hits) {
				t.Fatalf("codes %v with %d tries on the bad endpoint, want its 503s passed on", codes, hits)
			}
		})
	}
}

func TestHTTPConnectFailureRetriedForAnyMethod(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Outlier.Disabled = true })
	good := startHTTPBackend(t, "good", "127.0.0.83")
	dead := deadAddress(t, "127.0.0.84")
	port := int32(freePort(t))
	deadEp := endpoint("127.0.0.84", dead, sameZone)
	deadEp.Ports[0].Name = "http"
	e.put(httpService(port, model.ModeAny, "http", ""), endpoints("east", good.endpoint(sameZone), deadEp))
	e.waitRoute("route", port, func(r *table.Route) bool { return r != nil && len(r.Endpoints) == 2 })
	c := newClient(t)
	e.eventually("listener", func() bool { return get(t.Context(), c, port).err == nil })
	for i := range 30 {
		if r := send(t.Context(), c, port, http.MethodPost, 100<<10, nil); r.err != nil || r.code != 200 || r.backend != "good" {
			t.Fatalf("POST %d: %+v, want 200 from good (a refused connect is retried whatever the method)", i, r)
		}
	}
	if row := debugEndpoint(t, e, port, "127.0.0.84:"+itoa(dead)); row.Failures < 5 {
		t.Fatalf("dead endpoint saw %d connect failures, want about half of 30", row.Failures)
	}
}

func TestHTTPAllTriesFail(t *testing.T) {
	e := newEnv(t, nil)
	only := startHTTPBackend(t, "only", "127.0.0.85")
	only.status.Store(http.StatusBadGateway)
	port := httpRoute(t, e, only)
	c := newClient(t)
	// One endpoint: a retry would be the same endpoint twice in a row, so there is none, and
	// the client gets the endpoint's own answer.
	for i := range 3 {
		if r := get(t.Context(), c, port); r.code != http.StatusBadGateway || r.backend != "only" || r.cluster != "east" {
			t.Fatalf("request %d: %+v, want the endpoint's 502", i, r)
		}
	}
	if got := only.hits.Load(); got != 3 {
		t.Fatalf("endpoint tried %d times for 3 requests, want 3", got)
	}
	// Once it is gone, the waypoint answers 503 itself.
	only.stop()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://127.0.0.1:"+itoa(port)+"/", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get(HeaderLocalReply) != "connect-failed" || resp.Header.Get(HeaderCluster) != "east" {
		t.Fatalf("with the endpoint gone: %d %v, want a local 503 connect-failed", resp.StatusCode, resp.Header)
	}
}

func TestHTTPPerTryTimeout(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.PerTryTimeout = 200 * time.Millisecond
		o.Outlier.Disabled = true
	})
	slow, fast := startHTTPBackend(t, "slow", "127.0.0.86"), startHTTPBackend(t, "fast", "127.0.0.87")
	slow.delay.Store(int64(waitTimeout))
	port := httpRoute(t, e, slow, fast)
	c := newClient(t)
	start := time.Now()
	for i := range 10 {
		if r := get(t.Context(), c, port); r.code != 200 || r.backend != "fast" {
			t.Fatalf("request %d: %+v, want 200 from fast after the slow try timed out", i, r)
		}
	}
	t.Logf("10 requests in %s, slow endpoint tried %d times", time.Since(start).Round(time.Millisecond), slow.hits.Load())
	// A POST is not retried after a timeout: it may have been acted on.
	slow.delay.Store(int64(waitTimeout))
	for range 20 {
		r := send(t.Context(), c, port, http.MethodPost, 10, nil)
		if r.code == http.StatusGatewayTimeout {
			return
		}
	}
	t.Fatal("no POST of 20 got the 504 of a timed-out try")
}
