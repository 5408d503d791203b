// Package http1 is the waypoint's HTTP/1.1 engine: the client connections' request loop, what
// one try of a request sends to an endpoint, and how its body is kept for the next try.
//
// Server serves a client connection the way http.Server does for HTTP/1.1, without its
// per-request goroutine and read-ahead: it reads a request (bounded headers, a header timeout,
// 100-continue), has its Handler answer it with a response writer of its own (chunked or
// sized, trailers, Hijack for upgrades), watches the client connection for a close once the
// answer takes a while (which cancels the request), and keeps the connection for the next
// request unless the client, the answer or a drain ends it. A connection starting with HTTP/2's
// preface goes back to the caller (h2c).
//
// Pool is the HTTP/1.1 connection pool of one endpoint, a http.RoundTripper that writes a
// request it can send whole (no Expect, no Upgrade, a body empty or held in memory) and reads
// its answer on the calling goroutine over a kept-alive connection, resending on another
// connection a request that an idle connection could not take because it had ended (closed by
// the endpoint, or by what carries it, such as a tunnel whose connection was lost: idempotent
// requests, or any whose write failed); every other request goes to a net/http Transport of
// the same endpoint. It dials through the function it is given, so the waypoint's one dial
// (direct or through a tunnel, counted by outlier detection) opens every connection.
//
// Context is the context of a request the Server serves and of each try of it: canceled as
// context.WithCancelCause's, but a child Context or a Pool's exchange watches it in a slot of
// its own, without the channels, maps and AfterFunc contexts that deriving and watching
// standard contexts allocates for every request and every try.
//
// ReplayBody holds a request body of known length up to MaxReplayBody so that every try can
// send it, and streams any other body once; NewTryBody ends a try when its response body is
// closed; BufferResponse holds a small gateway-error response while another try is made;
// Idempotent says which requests may be repeated.
//
// The package imports nothing of the store, the endpoint table or HBONE: it speaks HTTP/1.1
// with one client and to one endpoint, and the waypoint decides which endpoint answers.
package http1
