package hbone

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/meshfed/meshfed/hbone/identity"
)

// parseConnect validates the request line of a tunnel: a plain CONNECT (no :protocol) whose
// authority is an IP literal and port or, when services is true, a service name and port
// (then service is the name and target holds only the port).
func parseConnect(method, authority string, header http.Header, services bool) (target netip.AddrPort, service string, ref *Refusal) {
	if method != http.MethodConnect {
		return netip.AddrPort{}, "", &Refusal{Status: http.StatusBadRequest, Reason: ReasonBadMethod}
	}
	if header.Get(":protocol") != "" {
		return netip.AddrPort{}, "", &Refusal{Status: http.StatusBadRequest, Reason: ReasonBadMethod}
	}
	target, err := ParseAuthority(authority)
	if err != nil && services {
		var port uint16
		var serr error
		if service, port, serr = ParseServiceAuthority(authority); serr == nil {
			target, err = netip.AddrPortFrom(netip.Addr{}, port), nil
		}
	}
	if err != nil {
		return netip.AddrPort{}, "", &Refusal{Status: http.StatusBadRequest, Reason: ReasonBadAuthority, Err: err}
	}
	if tp := header.Get(headerTraceparent); tp != "" && !validTraceparent(tp) {
		return netip.AddrPort{}, "", &Refusal{Status: http.StatusBadRequest, Reason: ReasonBadHeader}
	}
	return target, service, nil
}

// validTraceparent checks the W3C shape version-traceid-parentid-flags in lower-case hex.
func validTraceparent(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 4 || len(parts[0]) != 2 || len(parts[1]) != 32 || len(parts[2]) != 16 || len(parts[3]) != 2 {
		return false
	}
	for _, p := range parts[:4] {
		for i := 0; i < len(p); i++ {
			if !(p[i] >= '0' && p[i] <= '9' || p[i] >= 'a' && p[i] <= 'f') {
				return false
			}
		}
	}
	return true
}

// accept turns an HTTP request into a tunnel Request within the tunnel caps, or a refusal.
// Unless it refuses, the caller calls release when the tunnel ends.
func (s *Server) accept(r *http.Request, proto Protocol) (req *Request, release func(), ref *Refusal) {
	target, service, ref := parseConnect(r.Method, r.Host, r.Header, s.opts.ServiceTargets)
	if ref != nil {
		return nil, nil, ref
	}
	caller, err := identity.Peer(r.TLS)
	if err != nil {
		return nil, nil, &Refusal{Status: http.StatusUnauthorized, Reason: ReasonNoIdentity, Err: err}
	}
	src := sourceOfString(r.RemoteAddr)
	if v := s.adm.admitTunnel(src); v != admitted {
		return nil, nil, &Refusal{Status: http.StatusServiceUnavailable, Reason: ReasonTunnelLimit, Err: &admissionError{verdict: v}}
	}
	req = &Request{Caller: caller.ID, CallerCluster: caller.Cluster, Target: target, Service: service, Header: r.Header, Protocol: proto, RemoteAddr: r.RemoteAddr}
	return req, func() { s.adm.releaseTunnel(src) }, nil
}

// connect asks the Handler for the upstream connection within Limits.UpstreamTimeout.
func (s *Server) connect(ctx context.Context, req *Request) (net.Conn, *Refusal) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Limits.UpstreamTimeout)
	defer cancel()
	up, err := s.opts.Handler.Connect(ctx, req)
	if err == nil {
		return up, nil
	}
	if ref, ok := errors.AsType[*Refusal](err); ok {
		return nil, ref
	}
	if ctx.Err() != nil || isTimeout(err) {
		return nil, &Refusal{Status: http.StatusServiceUnavailable, Reason: ReasonUpstreamTimeout, Err: err}
	}
	return nil, &Refusal{Status: http.StatusServiceUnavailable, Reason: ReasonUpstreamUnreachable, Err: err}
}

func (s *Server) refuse(w http.ResponseWriter, req *http.Request, ref *Refusal) {
	s.opts.Logger.Debug("Refused tunnel", "remote", req.RemoteAddr, "authority", req.Host, "status", ref.Status, "reason", ref.Reason, "error", ref.Err)
	w.Header().Set(ReasonHeader, ref.Reason)
	w.WriteHeader(ref.Status)
}
