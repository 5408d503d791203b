// Package http1 is the upstream half of the waypoint's HTTP engine: what one try of a request
// sends to an endpoint and how its body is kept for the next try.
//
// Pool is the HTTP/1.1 connection pool of one endpoint, a http.RoundTripper that writes a
// request it can send whole (no Expect, no Upgrade, a body empty or held in memory) and reads
// its answer on the calling goroutine over a kept-alive connection, resending on another
// connection a request the endpoint's closed idle connection could not take (idempotent
// requests, or any whose write failed); every other request goes to a net/http Transport of
// the same endpoint. It dials through the function it is given, so the waypoint's one dial
// (direct or through a tunnel, counted by outlier detection) opens every connection.
//
// ReplayBody holds a request body of known length up to MaxReplayBody so that every try can
// send it, and streams any other body once; NewTryBody ends a try when its response body is
// closed; BufferResponse holds a small gateway-error response while another try is made;
// Idempotent says which requests may be repeated.
//
// The package imports nothing of the store, the endpoint table or HBONE: it speaks HTTP/1.1 to
// one endpoint, and the waypoint decides which.
package http1
