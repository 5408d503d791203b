package waypoint

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/waypoint/http1"
	"github.com/meshfed/meshfed/waypoint/internal/wptest"
	"github.com/meshfed/meshfed/waypoint/table"
)

// h1Route starts a waypoint whose per-request route on a new port leads to b, and returns
// that port.
func h1Route(t *testing.T, b *wptest.RawBackend) (*env, int32) {
	t.Helper()
	e := newEnv(t, nil)
	host, p, _ := net.SplitHostPort(b.Addr)
	bp, _ := strconv.Atoi(p)
	port := int32(freePort(t))
	ep := endpoint(host, int32(bp), sameZone)
	ep.Ports[0].Name = "http"
	e.put(httpService(port, model.ModeAny, "http", "http"), endpoints("east", ep))
	e.waitRoute("http route", port, func(r *table.Route) bool { return r != nil && len(r.Endpoints) == 1 })
	return e, port
}

// rawClient is a client connection to the waypoint that writes bytes as they are.
type rawClient struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

// dialRaw connects to the waypoint's listener on port. The route can be in the table a moment
// before its listener is open, so a refused connect is tried again until waitTimeout.
func dialRaw(t *testing.T, port int32) *rawClient {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	c, err := net.Dial("tcp", "127.0.0.1:"+itoa(port))
	for err != nil && errors.Is(err, syscall.ECONNREFUSED) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		c, err = net.Dial("tcp", "127.0.0.1:"+itoa(port))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(waitTimeout))
	return &rawClient{t: t, c: c, br: bufio.NewReader(c)}
}

func (rc *rawClient) send(s string) {
	rc.t.Helper()
	if _, err := io.WriteString(rc.c, s); err != nil {
		rc.t.Fatal(err)
	}
}

// response reads one response to a request of method and its whole body.
func (rc *rawClient) response(method string) (*http.Response, string) {
	rc.t.Helper()
	resp, err := http.ReadResponse(rc.br, &http.Request{Method: method})
	if err != nil {
		rc.t.Fatalf("reading the response: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		rc.t.Fatalf("reading the body: %v", err)
	}
	return resp, string(b)
}

// closed reports whether the waypoint closed the connection.
func (rc *rawClient) closed() bool {
	_ = rc.c.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err := rc.br.ReadByte()
	return err == io.EOF
}

// echoBackend answers every request with its method, path and body length, keeping the
// connection; a "chunked" path answers in chunks with a trailer.
func echoBackend(t *testing.T) *wptest.RawBackend {
	return wptest.StartRawBackend(t, func(c net.Conn, br *bufio.Reader) {
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			n, _ := io.Copy(io.Discard, req.Body)
			msg := req.Method + " " + req.URL.Path + " " + strconv.Itoa(int(n)) + " xff=" + req.Header.Get("X-Forwarded-For")
			switch {
			case req.Method == http.MethodHead:
				_, err = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n")
			case req.URL.Path == "/chunked":
				_, err = io.WriteString(c, "HTTP/1.1 200 OK\r\nTrailer: X-Sum\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-Sum: 5\r\n\r\n")
			default:
				_, err = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(msg))+"\r\n\r\n"+msg)
			}
			if err != nil {
				return
			}
		}
	})
}

func TestHTTP1ClientSide(t *testing.T) {
	_, port := h1Route(t, echoBackend(t))

	t.Run("pipelined requests answered in order", func(t *testing.T) {
		rc := dialRaw(t, port)
		rc.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /c HTTP/1.1\r\nHost: x\r\n\r\n")
		for _, want := range []string{"GET /a 0 xff=127.0.0.1", "POST /b 5 xff=127.0.0.1", "GET /c 0 xff=127.0.0.1"} {
			resp, body := rc.response(http.MethodGet)
			if resp.StatusCode != http.StatusOK || body != want || resp.Header.Get(HeaderCluster) != "east" {
				t.Fatalf("%d %q %v, want 200 %q from east", resp.StatusCode, body, resp.Header, want)
			}
		}
	})
	t.Run("HTTP/1.0 closes unless keep-alive", func(t *testing.T) {
		rc := dialRaw(t, port)
		rc.send("GET /k HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
		if resp, body := rc.response(http.MethodGet); resp.Header.Get("Connection") != "keep-alive" || body != "GET /k 0 xff=127.0.0.1" {
			t.Fatalf("%v %q", resp.Header, body)
		}
		rc.send("GET /c HTTP/1.0\r\n\r\n")
		if resp, _ := rc.response(http.MethodGet); !resp.Close {
			t.Fatalf("HTTP/1.0 response without close: %v", resp.Header)
		}
		if !rc.closed() {
			t.Fatal("connection left open after an HTTP/1.0 request without keep-alive")
		}
	})
	t.Run("Connection: close", func(t *testing.T) {
		rc := dialRaw(t, port)
		rc.send("GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if resp, _ := rc.response(http.MethodGet); !resp.Close {
			t.Fatalf("response does not say close: %v", resp.Header)
		}
		if !rc.closed() {
			t.Fatal("connection left open")
		}
	})
	t.Run("HEAD", func(t *testing.T) {
		rc := dialRaw(t, port)
		rc.send("HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp, body := rc.response(http.MethodHead); resp.StatusCode != http.StatusOK || body != "" {
			t.Fatalf("HEAD: %d %q", resp.StatusCode, body)
		}
		if _, body := rc.response(http.MethodGet); body != "GET /after 0 xff=127.0.0.1" {
			t.Fatalf("request after HEAD: %q", body)
		}
	})
	t.Run("chunked response with trailer", func(t *testing.T) {
		rc := dialRaw(t, port)
		rc.send("GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, body := rc.response(http.MethodGet)
		if body != "abcde" || resp.Trailer.Get("X-Sum") != "5" || len(resp.TransferEncoding) != 1 {
			t.Fatalf("body %q trailer %v encoding %v", body, resp.Trailer, resp.TransferEncoding)
		}
	})
	t.Run("100-continue", func(t *testing.T) {
		rc := dialRaw(t, port)
		rc.send("PUT /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
		if resp, _ := rc.response(http.MethodPut); resp.StatusCode != http.StatusContinue {
			t.Fatalf("status %d, want 100 before the body is sent", resp.StatusCode)
		}
		rc.send("data")
		if resp, body := rc.response(http.MethodPut); resp.StatusCode != http.StatusOK || body != "PUT /e 4 xff=127.0.0.1" {
			t.Fatalf("%d %q", resp.StatusCode, body)
		}
	})
	t.Run("unknown expectation", func(t *testing.T) {
		rc := dialRaw(t, port)
		rc.send("PUT /e HTTP/1.1\r\nHost: x\r\nExpect: telepathy\r\nContent-Length: 4\r\n\r\ndata")
		if resp, _ := rc.response(http.MethodPut); resp.StatusCode != http.StatusExpectationFailed {
			t.Fatalf("status %d, want 417", resp.StatusCode)
		}
	})
	t.Run("malformed request", func(t *testing.T) {
		rc := dialRaw(t, port)
		rc.send("GET / HTTP/1.1\r\nHost: x\r\nbad header line\r\n\r\n")
		if resp, _ := rc.response(http.MethodGet); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status %d, want 400", resp.StatusCode)
		}
		if !rc.closed() {
			t.Fatal("connection left open after a malformed request")
		}
	})
	t.Run("HTTP/1.1 without Host", func(t *testing.T) {
		rc := dialRaw(t, port)
		rc.send("GET / HTTP/1.1\r\n\r\n")
		if resp, _ := rc.response(http.MethodGet); resp.StatusCode != http.StatusBadRequest || !resp.Close {
			t.Fatalf("status %d close %v, want 400 and close", resp.StatusCode, resp.Close)
		}
	})
	t.Run("headers too large", func(t *testing.T) {
		rc := dialRaw(t, port)
		go func() { // the waypoint stops reading at the limit, so this write may not finish
			_, _ = io.WriteString(rc.c, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 2<<20)+"\r\n\r\n")
		}()
		if resp, body := rc.response(http.MethodGet); resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("status %d %q, want 431", resp.StatusCode, body)
		}
	})
	t.Run("body left unread", func(t *testing.T) {
		// The waypoint reads bodies it can hold (64 KiB) before picking an endpoint; a
		// larger one streams, and what the backend did not read is drained up to 256 KiB.
		rc := dialRaw(t, port)
		body := strings.Repeat("z", 100<<10)
		rc.send("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body + "GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
		if _, got := rc.response(http.MethodPost); got != "POST /big 102400 xff=127.0.0.1" {
			t.Fatalf("%q", got)
		}
		if _, got := rc.response(http.MethodGet); got != "GET /next 0 xff=127.0.0.1" {
			t.Fatalf("%q", got)
		}
	})
}

func TestHTTP1ClientLeavesWhileWaiting(t *testing.T) {
	received, released := make(chan struct{}, 1), make(chan error, 1)
	b := wptest.StartRawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		select {
		case received <- struct{}{}:
		default:
		}
		_, err := br.ReadByte() // never answers; ends when the waypoint closes the connection
		released <- err
	})
	_, port := h1Route(t, b)
	rc := dialRaw(t, port)
	rc.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	// The client leaves once the request is upstream and the waypoint watches the client: a
	// fixed wait alone could end before the request reached the backend on a loaded machine,
	// and a request given up before it is sent never reaches the backend to be released.
	select {
	case <-received:
	case <-time.After(waitTimeout):
		t.Fatal("the request did not reach the backend")
	}
	time.Sleep(3 * http1.WatchDelay)
	_ = rc.c.Close()
	select {
	case err := <-released:
		if !errors.Is(err, io.EOF) {
			t.Fatalf("backend read %v, want EOF when the waypoint gave up the request", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("the upstream request outlived its client")
	}
}

func TestHTTP1Upgrade(t *testing.T) {
	b := wptest.StartRawBackend(t, func(c net.Conn, br *bufio.Reader) {
		req, err := http.ReadRequest(br)
		if err != nil || req.Header.Get("Upgrade") != "echo" {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		_, _ = io.Copy(c, br) // echo until the client half-closes
	})
	_, port := h1Route(t, b)
	rc := dialRaw(t, port)
	rc.send("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	resp, err := http.ReadResponse(rc.br, &http.Request{Method: http.MethodGet})
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	rc.send("ping over the upgraded connection")
	buf := make([]byte, len("ping over the upgraded connection"))
	if _, err := io.ReadFull(rc.br, buf); err != nil || string(buf) != "ping over the upgraded connection" {
		t.Fatalf("echo %q, %v", buf, err)
	}
}
