package waypoint

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/waypoint/internal/wptest"
)

// headBackend answers every request with what reached it: the request line, Host and every
// header, sorted, as the body; the response carries hop-by-hop headers of its own, and
// /chunked answers in chunks with a trailer.
func headBackendRaw(t *testing.T) *wptest.RawBackend {
	return wptest.StartRawBackend(t, func(c net.Conn, br *bufio.Reader) {
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, req.Body)
			lines := []string{req.Method + " " + req.RequestURI + " host=" + req.Host}
			for k, vv := range req.Header {
				lines = append(lines, k+"="+strings.Join(vv, "|"))
			}
			slices.Sort(lines[1:])
			msg := strings.Join(lines, "\n")
			hop := "Connection: X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\nProxy-Authenticate: x\r\nX-Keep: a\r\nX-Keep: b\r\n"
			if req.URL.Path == "/chunked" {
				_, err = io.WriteString(c, "HTTP/1.1 200 OK\r\n"+hop+"Trailer: X-Sum\r\nTransfer-Encoding: chunked\r\n\r\n"+
					strconv.FormatInt(int64(len(msg)), 16)+"\r\n"+msg+"\r\n0\r\nX-Sum: 5\r\nX-Late: 6\r\n\r\n")
			} else {
				_, err = io.WriteString(c, "HTTP/1.1 201 Created\r\n"+hop+"Content-Type: text/plain\r\nContent-Length: "+strconv.Itoa(len(msg))+"\r\n\r\n"+msg)
			}
			if err != nil {
				return
			}
		}
	})
}

// TestForwardMatchesReverseProxy: a request that forward serves reaches the endpoint with the
// same request line and headers as through httputil.ReverseProxy (o.proxy), hop-by-hop and
// forwarding headers included, and the client gets the same status, headers, body and
// trailers.
func TestForwardMatchesReverseProxy(t *testing.T) {
	e, port := h1Route(t, headBackendRaw(t))
	o := e.wp.Outbound()
	for _, raw := range []string{
		"POST /p?q=1&r=%20x HTTP/1.1\r\nHost: shop.example\r\nConnection: keep-alive, X-Drop\r\nX-Drop: 1\r\n" +
			"Keep-Alive: 300\r\nTe: trailers, deflate\r\nX-Forwarded-For: 6.6.6.6\r\nForwarded: for=6.6.6.6\r\n" +
			"X-Forwarded-Host: evil\r\nX-Forwarded-Proto: https\r\nProxy-Connection: keep-alive\r\nTrailer: X-T\r\n" +
			"X-Multi: 1\r\nX-Multi: 2\r\nContent-Length: 5\r\n\r\nhello",
		"GET /chunked HTTP/1.1\r\nHost: h:80\r\nUser-Agent: ua/1\r\nConnection: User-Agent\r\n\r\n",
		"DELETE /d HTTP/1.1\r\nHost: h\r\nUser-Agent: ua/2\r\nIdempotency-Key: k\r\nContent-Length: 0\r\n\r\n",
	} {
		serve := func(owned bool) (*httptest.ResponseRecorder, bool) {
			req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
			if err != nil {
				t.Fatal(err)
			}
			req.RemoteAddr = "10.1.2.3:5555"
			forwarded := o.forwardable(req, port)
			rec := httptest.NewRecorder()
			o.proxyRequest(rec, req, port, owned)
			return rec, forwarded
		}
		got, forwarded := serve(true)
		want, _ := serve(false)
		if !forwarded {
			t.Fatalf("%q: not forwardable", raw)
		}
		if got.Code != want.Code || got.Body.String() != want.Body.String() || !reflect.DeepEqual(got.Header(), want.Header()) {
			t.Errorf("%q:\nforward:      %d %v\n%s\nReverseProxy: %d %v\n%s", raw, got.Code, got.Header(), got.Body, want.Code, want.Header(), want.Body)
		}
		if !strings.Contains(got.Body.String(), "X-Forwarded-For=10.1.2.3") || got.Header().Get(HeaderCluster) != "east" {
			t.Errorf("%q: not proxied as expected: %v\n%s", raw, got.Header(), got.Body)
		}
	}
}

// TestForwardable: requests forward cannot serve exactly as ReverseProxy go to o.proxy.
func TestForwardable(t *testing.T) {
	e, port := h1Route(t, headBackendRaw(t))
	o := e.wp.Outbound()
	for raw, want := range map[string]bool{
		"GET /?a=1&b=%41 HTTP/1.1\r\nHost: h\r\n\r\n":                                         true,
		"GET /?a=1;b=2 HTTP/1.1\r\nHost: h\r\n\r\n":                                           false, // re-encoded by ReverseProxy
		"GET /?a=%4 HTTP/1.1\r\nHost: h\r\n\r\n":                                              false,
		"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n":      false,
		"PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx":     false,
		"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n": false,
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 70000\r\n\r\n":                         false, // streamed
	} {
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			t.Fatal(err)
		}
		if got := o.forwardable(req, port); got != want {
			t.Errorf("forwardable(%q) = %v, want %v", raw, got, want)
		}
	}
	if o.forwardable(&http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/"}, Header: http.Header{}}, port+1) {
		t.Error("forwardable on a port without a route")
	}
}
