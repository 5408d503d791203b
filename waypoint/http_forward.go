package waypoint

import (
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/meshfed/meshfed/waypoint/http1"
	"github.com/meshfed/meshfed/waypoint/table"
)

// hopHeaders are the hop-by-hop headers httputil.ReverseProxy removes from requests and
// responses, besides those the Connection header names.
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// reencodesQueries is set when GODEBUG names urlmaxqueryparams: httputil.ReverseProxy then
// re-encodes every query, which forward does not do, so every request goes to o.proxy.
var reencodesQueries = strings.Contains(os.Getenv("GODEBUG"), "urlmaxqueryparams")

// forwardable reports whether forward proxies req exactly as o.proxy (httputil.ReverseProxy
// with newReverseProxy's Rewrite) would: the route's upstreams speak HTTP/1.1, so every try
// goes to an http1.Pool that sends it inline and never returns a 1xx response (forward has no
// client trace to pass them on); the body, if any, is of a known length small enough to be
// replayed (a streamed body may go to a net/http Transport, whose 1xx responses
// ReverseProxy's trace passes on); no Expect (idem) or protocol upgrade; and a query
// ReverseProxy leaves as it is.
func (o *Outbound) forwardable(req *http.Request, port int32) bool {
	if r := o.table.View().Route(port); r == nil || r.Protocol != table.ProtocolHTTP {
		return false
	}
	h := req.Header
	switch {
	case req.ContentLength < 0 || req.ContentLength > http1.MaxReplayBody,
		len(h["Expect"]) > 0, len(h["Upgrade"]) > 0,
		httpguts.HeaderValuesContainsToken(h["Connection"], "Upgrade"),
		reencodesQueries, !plainQuery(req.URL.RawQuery):
		return false
	}
	return true
}

// plainQuery reports whether httputil.ReverseProxy sends the query s as it is: it re-encodes
// one with a semicolon, a malformed escape or more than 10,000 parameters.
func plainQuery(s string) bool {
	if strings.Count(s, "&") >= 10_000 {
		return false
	}
	for i := 0; i < len(s); {
		switch s[i] {
		case ';':
			return false
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
			i += 3
		default:
			i++
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// forward proxies req, which forwardable accepted and which the caller owns (http1.Server
// hands each request to its handler alone), and answers on w: what o.proxy does for such a
// request, header for header, but rewriting req in place where ReverseProxy copies the
// request and its headers, with no client trace, and calling the balancer without passing
// the exchange through the request's context. Every one of those is an allocation or more
// per request, and this is the path every HTTP/1.1 request of an HTTP/1.1 route takes.
func (o *Outbound) forward(w http.ResponseWriter, req *http.Request, ex *exchange) {
	h := req.Header
	if h == nil {
		h = make(http.Header)
		req.Header = h
	}
	if req.ContentLength == 0 {
		req.Body = nil
	}
	req.Close = false
	trailers := httpguts.HeaderValuesContainsToken(h["Te"], "trailers")
	removeHopByHop(h)
	if trailers {
		h.Set("Te", "trailers")
	}
	// newReverseProxy's Rewrite: the client's forwarding headers are replaced by this hop's.
	// The three values share one array, each slice capped so that an append copies.
	delete(h, "Forwarded")
	vals := [...]string{"", req.Host, "http"}
	fwd := vals[:]
	if ip, _, err := net.SplitHostPort(req.RemoteAddr); err == nil {
		fwd[0] = ip
		h["X-Forwarded-For"] = fwd[0:1:1]
	} else {
		delete(h, "X-Forwarded-For")
	}
	h["X-Forwarded-Host"] = fwd[1:2:2]
	h["X-Forwarded-Proto"] = fwd[2:3:3]
	req.URL.Scheme, req.URL.Host = "http", req.Host // the host is replaced by the endpoint of each try
	if _, ok := h["User-Agent"]; !ok {
		h["User-Agent"] = []string{""} // no Go default User-Agent
	}

	res, err := o.roundTrip(req, ex)
	if err != nil {
		o.reply(w, req, ex.port, err)
		return
	}
	if res.StatusCode == http.StatusSwitchingProtocols {
		// An http1.Pool reads past a 101 to a request that asked for no upgrade; this only
		// keeps ReverseProxy's answer should one come through.
		_ = res.Body.Close()
		o.reply(w, req, ex.port, fmt.Errorf("backend tried to switch protocol %q when %q was requested", upgradeOf(res.Header), ""))
		return
	}
	removeHopByHop(res.Header)
	out := w.Header()
	addHeader(out, res.Header)
	announced := len(res.Trailer)
	if announced > 0 {
		keys := make([]string, 0, announced)
		for k := range res.Trailer {
			keys = append(keys, k)
		}
		out.Add("Trailer", strings.Join(keys, ", "))
	}
	w.WriteHeader(res.StatusCode)
	if err := o.copyBody(w, res); err != nil {
		// As ReverseProxy outside net/http's server: the response is cut short, which the
		// client sees (http1.Server closes a connection whose body fell short).
		_ = res.Body.Close()
		o.log.Debug("failed to copy a response body", "port", ex.port, "error", err)
		return
	}
	_ = res.Body.Close() // now, to populate res.Trailer
	if len(res.Trailer) > 0 {
		http.NewResponseController(w).Flush()
	}
	if len(res.Trailer) == announced {
		addHeader(out, res.Trailer)
		return
	}
	for k, vv := range res.Trailer {
		for _, v := range vv {
			out.Add(http.TrailerPrefix+k, v)
		}
	}
}

// addHeader adds src's values to dst, as ReverseProxy's copyHeader; a key dst does not have
// takes src's slice itself rather than a copy (src, a response's header or trailer, is not
// used after).
func addHeader(dst, src http.Header) {
	for k, vv := range src {
		if old, ok := dst[k]; ok {
			dst[k] = append(old, vv...)
		} else {
			dst[k] = vv
		}
	}
}

// copyBody copies res's body to w with a pooled buffer. A response of unknown length or an
// event stream is flushed at once and after every write, as ReverseProxy does (its flush
// interval of -1), whose flush errors are ignored too: the next write reports them.
func (o *Outbound) copyBody(w http.ResponseWriter, res *http.Response) error {
	var flush func() error
	if res.ContentLength == -1 || eventStream(res.Header.Get("Content-Type")) {
		flush = http.NewResponseController(w).Flush
		_ = flush()
	}
	buf := copyBuffers{}.Get()
	defer copyBuffers{}.Put(buf)
	for {
		n, rerr := res.Body.Read(buf)
		if n > 0 {
			if _, err := w.Write(buf[:n]); err != nil {
				return err
			}
			if flush != nil {
				_ = flush()
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// eventStream reports whether a Content-Type is text/event-stream, as ReverseProxy decides
// it; mime.ParseMediaType (two allocations) runs only for a value that might be.
func eventStream(ct string) bool {
	if !containsFold(ct, "event-stream") {
		return false
	}
	base, _, _ := mime.ParseMediaType(ct)
	return base == "text/event-stream"
}

// containsFold reports whether s contains the lower-case ASCII sub, ignoring ASCII case.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// removeHopByHop removes the headers the Connection header names and the hopHeaders, as
// httputil.ReverseProxy does.
func removeHopByHop(h http.Header) {
	for _, f := range h["Connection"] {
		for sf := range strings.SplitSeq(f, ",") {
			if sf = textproto.TrimString(sf); sf != "" {
				h.Del(sf)
			}
		}
	}
	for _, k := range hopHeaders {
		delete(h, k)
	}
}

// upgradeOf is the protocol a header asks to switch to ("" for none), as ReverseProxy reads it.
func upgradeOf(h http.Header) string {
	if !httpguts.HeaderValuesContainsToken(h["Connection"], "Upgrade") {
		return ""
	}
	return h.Get("Upgrade")
}
