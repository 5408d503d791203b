package http1

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshfed/meshfed/waypoint/internal/wptest"
)

// pool is a Pool dialing b; its fallback Transport is never expected.
func pool(t *testing.T, b *wptest.RawBackend) *Pool {
	p := NewPool(func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", b.Addr)
	}, func() *http.Transport { t.Error("a request took the fallback transport"); return &http.Transport{} })
	t.Cleanup(p.Close)
	return p
}

// poolTrip sends method with body through p and returns the response body.
func poolTrip(ctx context.Context, p *Pool, method, body string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://backend/x", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	if body == "" {
		req.Body, req.GetBody = http.NoBody, nil
	}
	resp, err := p.RoundTrip(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.Status + " " + string(b), err
}

// answer reads one request and writes a 200 with body (and extra headers).
func answer(c net.Conn, br *bufio.Reader, body, extra string) bool {
	req, err := http.ReadRequest(br)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, req.Body)
	_, err = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n"+extra+"\r\n"+body)
	return err == nil
}

func TestH1PoolReusesConnections(t *testing.T) {
	b := wptest.StartRawBackend(t, func(c net.Conn, br *bufio.Reader) {
		for answer(c, br, "ok", "") {
		}
	})
	p := pool(t, b)
	for i := range 20 {
		method, body := http.MethodGet, ""
		if i%2 == 1 {
			method, body = http.MethodPost, strings.Repeat("x", 3000)
		}
		if got, err := poolTrip(t.Context(), p, method, body); err != nil || got != "200 OK ok" {
			t.Fatalf("request %d: %q, %v", i, got, err)
		}
	}
	if n := b.Conns.Load(); n != 1 {
		t.Fatalf("20 sequential requests opened %d connections, want 1", n)
	}
}

func TestH1PoolStaleConnections(t *testing.T) {
	// The backend closes every connection after one answer without saying so.
	b := wptest.StartRawBackend(t, func(c net.Conn, br *bufio.Reader) { answer(c, br, "once", "") })
	p := pool(t, b)
	for i := range 5 {
		if got, err := poolTrip(t.Context(), p, http.MethodGet, ""); err != nil || got != "200 OK once" {
			t.Fatalf("GET %d on a connection the backend closed: %q, %v; want it sent again on a new one", i, got, err)
		}
		time.Sleep(10 * time.Millisecond) // the FIN arrives before the next request
	}
	if n := b.Conns.Load(); n != 5 {
		t.Fatalf("%d connections, want 5", n)
	}
}

func TestH1PoolDoesNotResendNonIdempotentAfterWrite(t *testing.T) {
	var reqs atomic.Int64
	// The first connection answers once, then reads the next request and drops it unanswered.
	b := wptest.StartRawBackend(t, func(c net.Conn, br *bufio.Reader) {
		answer(c, br, "first", "")
		if _, err := http.ReadRequest(br); err == nil {
			reqs.Add(1)
		}
	})
	p := pool(t, b)
	if _, err := poolTrip(t.Context(), p, http.MethodGet, ""); err != nil {
		t.Fatal(err)
	}
	_, err := poolTrip(t.Context(), p, http.MethodPost, "pay once")
	if err == nil || errors.Is(err, errStaleConn) {
		t.Fatalf("POST whose connection closed after it was sent: %v; want a read error, not a resend", err)
	}
	if n := b.Conns.Load(); n != 1 || reqs.Load() != 1 {
		t.Fatalf("%d connections, %d dropped requests; want the POST sent exactly once", n, reqs.Load())
	}
}

func TestH1PoolConnectionLifecycle(t *testing.T) {
	t.Run("body closed early closes the connection", func(t *testing.T) {
		b := wptest.StartRawBackend(t, func(c net.Conn, br *bufio.Reader) {
			for answer(c, br, strings.Repeat("y", 100<<10), "") {
			}
		})
		p := pool(t, b)
		for range 3 {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://backend/", http.NoBody)
			resp, err := p.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = resp.Body.Read(make([]byte, 10))
			_ = resp.Body.Close()
		}
		if n := b.Conns.Load(); n != 3 {
			t.Fatalf("%d connections, want 3: a half-read body leaves its connection unusable", n)
		}
	})
	t.Run("interim responses and Connection: close", func(t *testing.T) {
		b := wptest.StartRawBackend(t, func(c net.Conn, br *bufio.Reader) {
			if _, err := http.ReadRequest(br); err != nil {
				return
			}
			_, _ = io.WriteString(c, "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 4\r\n\r\ndone")
		})
		p := pool(t, b)
		for range 2 {
			if got, err := poolTrip(t.Context(), p, http.MethodGet, ""); err != nil || got != "200 OK done" {
				t.Fatalf("%q, %v", got, err)
			}
		}
		if n := b.Conns.Load(); n != 2 {
			t.Fatalf("%d connections, want 2 (the backend said close)", n)
		}
	})
	t.Run("idle too long", func(t *testing.T) {
		b := wptest.StartRawBackend(t, func(c net.Conn, br *bufio.Reader) {
			for answer(c, br, "ok", "") {
			}
		})
		p := pool(t, b)
		now := time.Now()
		p.now = func() time.Time { return now }
		_, _ = poolTrip(t.Context(), p, http.MethodGet, "")
		now = now.Add(IdleTimeout)
		_, _ = poolTrip(t.Context(), p, http.MethodGet, "")
		if n := b.Conns.Load(); n != 2 {
			t.Fatalf("%d connections, want 2 (the first idled out)", n)
		}
	})
	t.Run("context ends while waiting", func(t *testing.T) {
		// The backend holds the request until the pool closes the connection, or until its
		// own deadline (WaitTimeout) ends the read: that would mean the pool kept waiting
		// past the context. Told apart by the backend's error, not by a time a loaded
		// machine can stretch.
		held := make(chan error, 1)
		b := wptest.StartRawBackend(t, func(c net.Conn, br *bufio.Reader) {
			_, _ = http.ReadRequest(br)
			_, err := br.ReadByte()
			held <- err
		})
		p := pool(t, b)
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		if _, err := poolTrip(ctx, p, http.MethodGet, ""); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err %v, want the context's deadline", err)
		}
		t.Logf("returned %s after the request", time.Since(start).Round(time.Millisecond))
		select {
		case err := <-held:
			if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
				t.Fatalf("the backend's read ended at its own deadline (%v): the pool kept the connection past the context", err)
			}
		case <-time.After(2 * wptest.WaitTimeout):
			t.Fatal("the backend still holds the request")
		}
	})
}

// TestH1PoolConnectionsWhoseCarrierEnded: idle connections whose carrier ended under them
// (a tunnel whose HTTP/2 connection was closed: writing fails with io.ErrClosedPipe, as on a
// net.Pipe whose other end is closed) are stale, whatever the method: nothing of the request
// reached the endpoint, which gets it once, on a new connection.
func TestH1PoolConnectionsWhoseCarrierEnded(t *testing.T) {
	var (
		mu    sync.Mutex
		far   []net.Conn // the endpoint's ends
		got   []string   // methods of the requests the endpoint read
		dials atomic.Int64
	)
	p := NewPool(func(context.Context) (net.Conn, error) {
		dials.Add(1)
		near, end := net.Pipe()
		mu.Lock()
		far = append(far, end)
		mu.Unlock()
		go func() {
			br := bufio.NewReader(end)
			for {
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				mu.Lock()
				got = append(got, req.Method)
				mu.Unlock()
				_, _ = io.Copy(io.Discard, req.Body)
				if _, err := io.WriteString(end, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); err != nil {
					return
				}
			}
		}()
		return near, nil
	}, func() *http.Transport { t.Error("a request took the fallback transport"); return &http.Transport{} })
	t.Cleanup(p.Close)
	// Three responses held open at once leave three idle connections once read.
	var open []*http.Response
	for range 3 {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://backend/", http.NoBody)
		resp, err := p.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, resp)
	}
	for _, resp := range open {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	mu.Lock()
	for _, c := range far {
		_ = c.Close()
	}
	got = nil
	mu.Unlock()
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		if out, err := poolTrip(t.Context(), p, method, "once"); err != nil || out != "200 OK ok" {
			t.Fatalf("%s after every idle connection's carrier ended: %q, %v; want it sent on a new connection", method, out, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if n := dials.Load(); n != 4 || len(got) != 2 {
		t.Fatalf("%d dials, endpoint read %v; want 4 dials (3, then 1 new) and the POST and GET once each", n, got)
	}
}
