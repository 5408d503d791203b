package hbone

import (
	"errors"
	"fmt"
	"net/http"
)

// Kind classifies a tunnel failure for a load balancer: whether the peer refused the request,
// could not reach the target, could not itself be reached, timed out or is not who it should be.
type Kind int

// Kinds of tunnel failure.
const (
	// KindRefused: the peer answered 4xx (bad request, not authorized, denied by policy).
	KindRefused Kind = iota + 1
	// KindUnavailable: the peer answered 5xx, typically 503 because the target was unreachable.
	KindUnavailable
	// KindUnreachable: the peer itself could not be reached or the connection to it broke.
	KindUnreachable
	// KindTimeout: connecting to the peer or waiting for its answer took too long.
	KindTimeout
	// KindIdentity: the peer's certificate did not verify or carried the wrong SPIFFE ID.
	KindIdentity
)

// String returns the kind's name, e.g. "refused".
func (k Kind) String() string {
	switch k {
	case KindRefused:
		return "refused"
	case KindUnavailable:
		return "unavailable"
	case KindUnreachable:
		return "unreachable"
	case KindTimeout:
		return "timeout"
	case KindIdentity:
		return "identity"
	default:
		return fmt.Sprintf("Kind(%d)", int(k))
	}
}

// Error is the error returned by Dialer.Dial. Status is the peer's HTTP status (0 when the
// peer never answered) and Reason its ReasonHeader.
type Error struct {
	Kind   Kind
	Status int
	Reason string
	Peer   string
	Target string
	Err    error
}

// Error implements error.
func (e *Error) Error() string {
	msg := fmt.Sprintf("failed to open tunnel %s via %s: %s", e.Target, e.Peer, e.Kind)
	if e.Status != 0 {
		msg += fmt.Sprintf(" (%d %s)", e.Status, e.Reason)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of err if it is or wraps an *Error, else 0.
func KindOf(err error) Kind {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Kind
	}
	return 0
}

// ReasonHeader carries a machine-readable reason on every non-200 answer of the Server.
const ReasonHeader = "Meshfed-Reason"

// Reasons sent in ReasonHeader.
const (
	ReasonBadMethod           = "bad-method"
	ReasonBadAuthority        = "bad-authority"
	ReasonBadHeader           = "bad-header"
	ReasonNoIdentity          = "no-client-identity"
	ReasonDenied              = "denied"
	ReasonUpstreamUnreachable = "upstream-unreachable"
	ReasonUpstreamTimeout     = "upstream-timeout"
	ReasonShuttingDown        = "shutting-down"
	ReasonTunnelLimit         = "tunnel-limit"
)

// Refusal is returned by a Handler to refuse a tunnel with an HTTP status and reason.
type Refusal struct {
	Status int
	Reason string
	Err    error
}

// Error implements error.
func (r *Refusal) Error() string {
	if r.Err != nil {
		return fmt.Sprintf("tunnel refused (%d %s): %v", r.Status, r.Reason, r.Err)
	}
	return fmt.Sprintf("tunnel refused (%d %s)", r.Status, r.Reason)
}

// Unwrap returns the underlying cause.
func (r *Refusal) Unwrap() error { return r.Err }

// Deny returns a Refusal answered with 403 Forbidden.
func Deny(reason string) error {
	return &Refusal{Status: http.StatusForbidden, Reason: reason}
}

// Unavailable returns a Refusal answered with 503 Service Unavailable.
func Unavailable(reason string, err error) error {
	return &Refusal{Status: http.StatusServiceUnavailable, Reason: reason, Err: err}
}

func kindForStatus(status int) Kind {
	if status >= 500 {
		return KindUnavailable
	}
	return KindRefused
}
