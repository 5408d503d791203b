package http1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestWriteHeaderMatchesHeaderWrite: writeHeader writes what http.Header.Write writes,
// invalid names dropped and line breaks in values turned into spaces.
func TestWriteHeaderMatchesHeaderWrite(t *testing.T) {
	h := http.Header{
		"Content-Type": {"text/plain"}, "X-Multi": {"a", " b ", ""}, "X-Broken": {"one\r\ntwo\nthree\r"},
		"Bad Name": {"dropped"}, "X-Meshfed-Cluster": {"east"}, "A": {"first"}, "Set-Cookie": {"k=v; Path=/"},
	}
	var want bytes.Buffer
	if err := h.Write(&want); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	bw := bufio.NewWriter(&got)
	writeHeader(bw, h, nil)
	_ = bw.Flush()
	if got.String() != want.String() {
		t.Fatalf("writeHeader:\n%q\nHeader.Write:\n%q", got.String(), want.String())
	}
}

// TestWriteRequestMatchesRequestWrite: for every request writeRequest takes it writes the
// bytes req.Write writes; any other it leaves to req.Write, having written nothing.
func TestWriteRequestMatchesRequestWrite(t *testing.T) {
	type build func() *http.Request
	req := func(method, target, body string, tune func(*http.Request)) build {
		return func() *http.Request {
			var r io.Reader
			if body != "" {
				r = strings.NewReader(body)
			}
			q, err := http.NewRequest(method, target, r)
			if err != nil {
				t.Fatal(err)
			}
			if body != "" { // as ReplayBody: a known length, a body that can be sent again
				b := body
				q.Body = io.NopCloser(strings.NewReader(b))
				q.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(b)), nil }
			}
			q.Header.Set("X-Forwarded-For", "10.0.0.1")
			q.Header["X-Multi"] = []string{"a", "b"}
			if tune != nil {
				tune(q)
			}
			return q
		}
	}
	taken := map[string]build{
		"GET":                     req("GET", "http://shop.example/a/b?x=1&y=2", "", nil),
		"POST with a body":        req("POST", "http://10.1.2.3:8080/p", strings.Repeat("x", 1024), nil),
		"POST empty":              req("POST", "http://h/p", "", nil),
		"DELETE empty":            req("DELETE", "http://h/d", "", func(q *http.Request) { q.Body = http.NoBody }),
		"HEAD":                    req("HEAD", "http://h/", "", nil),
		"PATCH empty":             req("PATCH", "http://h/", "", nil),
		"OPTIONS empty":           req("OPTIONS", "http://h/", "", func(q *http.Request) { q.Body = http.NoBody }),
		"no method":               req("GET", "http://h/", "", func(q *http.Request) { q.Method = "" }),
		"Host other than the URL": req("GET", "http://10.0.0.9:80/", "", func(q *http.Request) { q.Host = "shop.example:80" }),
		"escaped path":            req("GET", "http://h/a%20b/c%2Fd", "", nil),
		"empty path, force query": req("GET", "http://h", "", func(q *http.Request) { q.URL.ForceQuery = true }),
		"blank User-Agent":        req("GET", "http://h/", "", func(q *http.Request) { q.Header["User-Agent"] = []string{""} }),
		"User-Agent":              req("GET", "http://h/", "", func(q *http.Request) { q.Header.Set("User-Agent", " ua/1\r\n ") }),
		"excluded keys in header": req("PUT", "http://h/", "abc", func(q *http.Request) {
			q.Header.Set("Host", "other")
			q.Header.Set("Content-Length", "99")
			q.Header.Set("Trailer", "X")
			q.Header.Set("Connection", "close")
			q.Header["Bad Key"] = []string{"v"}
		}),
		"body longer than its length": req("POST", "http://h/", "abcdef", func(q *http.Request) { q.ContentLength = 3 }),
	}
	for name, b := range taken {
		var want bytes.Buffer
		wantErr := b().Write(&want)
		var got bytes.Buffer
		bw := bufio.NewWriter(&got)
		wrote, err := writeRequest(bw, b())
		_ = bw.Flush()
		if !wrote {
			t.Errorf("%s: not written", name)
			continue
		}
		if (err == nil) != (wantErr == nil) || got.String() != want.String() {
			t.Errorf("%s:\nwriteRequest %v\n%q\nRequest.Write %v\n%q", name, err, got.String(), wantErr, want.String())
		}
	}
	left := map[string]build{
		"Close":             req("GET", "http://h/", "", func(q *http.Request) { q.Close = true }),
		"chunked":           req("POST", "http://h/", "abc", func(q *http.Request) { q.ContentLength = -1 }),
		"trailer":           req("POST", "http://h/", "abc", func(q *http.Request) { q.Trailer = http.Header{"X-T": nil} }),
		"transfer encoding": req("POST", "http://h/", "abc", func(q *http.Request) { q.TransferEncoding = []string{"chunked"} }),
		"opaque":            req("GET", "http://h/", "", func(q *http.Request) { q.URL = &url.URL{Scheme: "http", Opaque: "//h/x"} }),
		"CONNECT":           req("CONNECT", "http://h:443", "", nil),
		"non-ASCII host":    req("GET", "http://h/", "", func(q *http.Request) { q.Host = "bücher.example" }),
		"zone":              req("GET", "http://h/", "", func(q *http.Request) { q.Host = "[fe80::1%25eth0]:80" }),
		"invalid host":      req("GET", "http://h/", "", func(q *http.Request) { q.Host = "a b" }),
		"control in query":  req("GET", "http://h/", "", func(q *http.Request) { q.URL.RawQuery = "a=\x01" }),
		"length, no body":   req("GET", "http://h/", "", func(q *http.Request) { q.ContentLength = 5 }),
	}
	for name, b := range left {
		var got bytes.Buffer
		bw := bufio.NewWriter(&got)
		wrote, err := writeRequest(bw, b())
		_ = bw.Flush()
		if wrote || err != nil || got.Len() > 0 {
			t.Errorf("%s: writeRequest = %v, %v, wrote %q; want it left to Request.Write", name, wrote, err, got.String())
		}
	}
}
