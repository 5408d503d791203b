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
	// CallerCluster is the member cluster the client's verified certificate names, "" if it
	// names none (see identity.ClusterOf). Unlike Locality().Cluster, which the client asserts
	// in a header, it is authenticated: authorize by this one.
	CallerCluster string
	// Target is the :authority of the CONNECT request: the endpoint's address, or, for a
	// service target (Service set), an invalid address and the service port.
	Target netip.AddrPort
	// Service is the DNS name of the service the CONNECT request targets, "" when it targets
	// an endpoint. Only a server with ServerOptions.ServiceTargets accepts such requests; the
	// handler picks the endpoint.
	Service string
	// Header holds the request headers (Forwarded, Baggage, Traceparent, ...).
	Header http.Header
	// Protocol is ProtocolH2 or ProtocolH3.
	Protocol Protocol
	// RemoteAddr is the client's address.
	RemoteAddr string
}

// Authority is the target as the CONNECT request named it: the service's name and port, or
// the endpoint's ip:port.
func (r *Request) Authority() string {
	if r.Service != "" {
		return FormatServiceAuthority(r.Service, r.Target.Port())
	}
	return r.Target.String()
}

// Locality returns the caller's locality from the Baggage header: what the caller says about
// itself, for balancing and telemetry, never for authorization.
func (r *Request) Locality() Locality { return ParseBaggage(r.Header.Get(headerBaggage)) }

// ForwardedFor returns the original client address from the Forwarded header, if any.
func (r *Request) ForwardedFor() netip.Addr { return ParseForwardedFor(r.Header.Get(headerForwarded)) }

// Handler decides whether a tunnel may be opened and, if so, dials its target. The Server
// dials nothing itself, so whatever Connect refuses is never reached.
//
// Connect returns the upstream connection, or an error: a *Refusal chooses the answer
// (Deny for 403); any other error is answered 503 upstream-unreachable, or 503
// upstream-timeout when ctx expired. ctx ends after Limits.UpstreamTimeout.
type Handler interface {
	Connect(ctx context.Context, req *Request) (net.Conn, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req *Request) (net.Conn, error)

// Connect calls f.
func (f HandlerFunc) Connect(ctx context.Context, req *Request) (net.Conn, error) { return f(ctx, req) }
