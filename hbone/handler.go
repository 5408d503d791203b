package hbone

import (
	"context"
	"net"
	"net/http"
	"net/netip"

	"github.com/meshfed/meshfed/hbone/identity"
)

// Request is what a Handler decides on: who asks, for which target, with which headers.
type Request struct {
	// Caller is the verified SPIFFE ID of the client.
	Caller identity.ID
	// Target is the :authority of the CONNECT request.
	Target netip.AddrPort
	// Header holds the request headers (Forwarded, Baggage, Traceparent, ...).
	Header http.Header
	// Protocol is ProtocolH2 or ProtocolH3.
	Protocol Protocol
	// RemoteAddr is the client's address.
	RemoteAddr string
}

// Locality returns the caller's locality from the Baggage header.
func (r *Request) Locality() Locality { return ParseBaggage(r.Header.Get(headerBaggage)) }

// ForwardedFor returns the original client address from the Forwarded header, if any.
func (r *Request) ForwardedFor() netip.Addr { return ParseForwardedFor(r.Header.Get(headerForwarded)) }

// Handler decides whether a tunnel may be opened and, if so, dials its target. The Server
// dials nothing itself, so whatever Connect refuses is never reached.
//
// Connect returns the upstream connection, or an error: a *Refusal chooses the answer
// (Deny for 403); any other error is answered 503 upstream-unreachable, or 503
// upstream-timeout when ctx expired. ctx ends after Limits.UpstreamTimeout. DialUpstream is
// the quickest way to dial an approved target.
type Handler interface {
	Connect(ctx context.Context, req *Request) (net.Conn, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req *Request) (net.Conn, error)

// Connect calls f.
func (f HandlerFunc) Connect(ctx context.Context, req *Request) (net.Conn, error) { return f(ctx, req) }

// upstreamKeepAlive is the TCP keepalive the Server turns on for connections from
// DialUpstream: net.Dialer's default (15 s idle, 15 s interval, 9 probes).
var upstreamKeepAlive = net.KeepAliveConfig{Enable: true}

// upstreamConn is a connection made by DialUpstream whose keepalive the Server still has to
// turn on.
type upstreamConn struct{ *net.TCPConn }

// DialUpstream dials target over TCP for a Handler with TCP keepalive left off until the
// Server has sent the 200, so that its four socket options are not on the tunnel's setup
// path. The Handler must return the connection itself, not a wrapper of it, for the Server
// to turn keepalive on.
//
// It does not use net.Dialer.DialTCP: its local address argument makes every dial bind(2)
// an ephemeral port explicitly, which costs a syscall and cannot reuse ports in TIME_WAIT.
func DialUpstream(ctx context.Context, target netip.AddrPort) (net.Conn, error) {
	d := net.Dialer{KeepAlive: -1}
	c, err := d.DialContext(ctx, "tcp", target.String())
	if err != nil {
		return nil, err
	}
	return &upstreamConn{c.(*net.TCPConn)}, nil
}

// enableKeepAlive turns TCP keepalive on for an upstream from DialUpstream; other
// connections keep whatever their Handler set. A failure only loses dead-peer detection, so
// it is ignored.
func enableKeepAlive(up net.Conn) {
	if c, ok := up.(*upstreamConn); ok {
		_ = c.SetKeepAliveConfig(upstreamKeepAlive)
	}
}
