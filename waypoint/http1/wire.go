package http1

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// defaultUserAgent is the User-Agent net/http sends on a request whose header has none.
const defaultUserAgent = "Go-http-client/1.1"

// writeHeader writes the lines of h, sorted by key, leaving out the keys skip names, as
// http.Header.Write does: a key that is not a valid field name is dropped, and a value has
// its line breaks turned into spaces and its ends trimmed. It does without Header.Write's
// per-call sorter and string replacer, which are most of what writing a response's headers
// costs.
func writeHeader(bw *bufio.Writer, h http.Header, skip func(key string) bool) {
	var buf [24]string
	keys := buf[:0]
	for k := range h {
		if skip == nil || !skip(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !httpguts.ValidHeaderFieldName(k) {
			continue
		}
		for _, v := range h[k] {
			_, _ = bw.WriteString(k)
			_, _ = bw.WriteString(": ")
			_, _ = bw.WriteString(headerValue(v))
			_, _ = bw.WriteString("\r\n")
		}
	}
}

// headerValue is v as http.Header.Write writes it: CR and LF replaced by spaces, then
// trimmed of ASCII white space.
func headerValue(v string) string {
	if strings.ContainsAny(v, "\r\n") {
		v = strings.NewReplacer("\n", " ", "\r", " ").Replace(v)
	}
	return textproto.TrimString(v)
}

// requestExcluded are the keys Request.Write takes from the request's fields rather than from
// its header.
func requestExcluded(k string) bool {
	switch k {
	case "Host", "User-Agent", "Content-Length", "Transfer-Encoding", "Trailer":
		return true
	}
	return false
}

// writeRequest writes req to bw byte for byte as req.Write would, for the requests a Pool
// sends inline in the common case: no Connection: close of the request's own, no
// Transfer-Encoding, no trailers, a body that is empty or of a known length, an ASCII Host
// without a zone, a URL without Opaque. Request.Write formats its first lines with fmt and
// writes the header through http.Header.Write; this costs a fifth of that. For any other
// request it reports false having written nothing, and the caller uses req.Write.
func writeRequest(bw *bufio.Writer, req *http.Request) (bool, error) {
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	host := req.Host
	if host == "" && req.URL != nil {
		host = req.URL.Host
	}
	body := req.Body
	if body == http.NoBody {
		body = nil
	}
	switch {
	case req.URL == nil, req.URL.Opaque != "", method == http.MethodConnect,
		req.Close, len(req.TransferEncoding) > 0, req.Trailer != nil,
		body != nil && req.ContentLength <= 0, body == nil && req.ContentLength != 0,
		!plainHost(host):
		return false, nil
	}
	path := req.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	query := req.URL.ForceQuery || req.URL.RawQuery != ""
	if hasCTL(path) || query && hasCTL(req.URL.RawQuery) {
		return false, nil // Request.Write's error
	}
	ua := defaultUserAgent
	if vv, ok := req.Header["User-Agent"]; ok {
		ua = ""
		if len(vv) > 0 {
			ua = vv[0]
		}
	}

	_, _ = bw.WriteString(method)
	_ = bw.WriteByte(' ')
	_, _ = bw.WriteString(path)
	if query {
		_ = bw.WriteByte('?')
		_, _ = bw.WriteString(req.URL.RawQuery)
	}
	_, _ = bw.WriteString(" HTTP/1.1\r\nHost: ")
	_, _ = bw.WriteString(host)
	_, _ = bw.WriteString("\r\n")
	if ua != "" {
		_, _ = bw.WriteString("User-Agent: ")
		_, _ = bw.WriteString(headerValue(ua))
		_, _ = bw.WriteString("\r\n")
	}
	// Content-Length as net/http's transferWriter: always with a body, and for an empty one
	// on POST, PUT and PATCH.
	if req.ContentLength > 0 || method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
		var num [20]byte
		_, _ = bw.WriteString("Content-Length: ")
		_, _ = bw.Write(strconv.AppendInt(num[:0], req.ContentLength, 10))
		_, _ = bw.WriteString("\r\n")
	}
	writeHeader(bw, req.Header, requestExcluded)
	_, err := bw.WriteString("\r\n")
	if body == nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return true, err
	}
	if err == nil {
		var n int64
		n, err = io.Copy(bw, io.LimitReader(body, req.ContentLength))
		if err == nil {
			var extra int64
			extra, err = io.Copy(io.Discard, body)
			n += extra
		}
		if err == nil && n != req.ContentLength {
			err = fmt.Errorf("http: ContentLength=%d with Body length %d", req.ContentLength, n)
		}
	}
	if cerr := body.Close(); err == nil {
		err = cerr
	}
	return true, err
}

// plainHost reports whether Request.Write sends host as it is: ASCII, a valid Host value,
// and no IPv6 zone to remove.
func plainHost(host string) bool {
	for i := 0; i < len(host); i++ {
		if host[i] >= 0x80 || host[i] == '%' {
			return false
		}
	}
	return httpguts.ValidHostHeader(host)
}

// hasCTL reports whether s has an ASCII control character, which Request.Write refuses in
// the request line.
func hasCTL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] == 0x7f {
			return true
		}
	}
	return false
}
