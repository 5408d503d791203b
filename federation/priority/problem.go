package priority

import (
	"errors"
	"fmt"
)

// Sentinel errors a caller can test with errors.Is on a Problem or on the error of a parser.
var (
	// ErrUnknownMode means a traffic-distribution value names no mode accepted at its source.
	ErrUnknownMode = errors.New("unknown traffic distribution")
	// ErrInvalidFailoverPriority means a failover-priority list is empty or holds a bad label key.
	ErrInvalidFailoverPriority = errors.New("invalid failover priority")
	// ErrInvalidDistribution means a resolved distribution cannot rank endpoints (unknown mode, or
	// ModeFailoverPriority without keys). It only comes from data that bypassed Resolve.
	ErrInvalidDistribution = errors.New("invalid distribution")
	// ErrInvalidLoadPolicy means an overprovisioning factor or panic threshold is out of range or
	// not a whole number, or a remote-endpoints value is neither "each" nor "aggregated".
	ErrInvalidLoadPolicy = errors.New("invalid load-balancing setting")
)

// Origin names the place a value came from, widest precedence first.
type Origin string

// The origins, in precedence order (DESIGN §3.1).
const (
	// OriginSpec is the Service's spec.trafficDistribution field.
	OriginSpec Origin = "Service spec"
	// OriginService is an annotation on the Service.
	OriginService Origin = "Service annotation"
	// OriginNamespace is an annotation on the Service's Namespace.
	OriginNamespace Origin = "Namespace annotation"
	// OriginDefault means nothing valid was set and the caller's default applies.
	OriginDefault Origin = "default"
)

// Reason says what is wrong with a value; it is stable and suitable for an Event reason.
type Reason string

// The reasons a Problem carries.
const (
	// ReasonUnknownMode: the value is not a mode accepted at its origin.
	ReasonUnknownMode Reason = "UnknownTrafficDistribution"
	// ReasonInvalidFailoverPriority: the failover-priority list does not parse.
	ReasonInvalidFailoverPriority Reason = "InvalidFailoverPriority"
	// ReasonIgnoredValue: a valid value on the same object lost to another key (the meshfed.io
	// key over its Istio alias, or failover-priority over traffic-distribution).
	ReasonIgnoredValue Reason = "IgnoredTrafficDistribution"
	// ReasonInvalidLoadPolicy: an overprovisioning factor, panic threshold or remote-endpoints
	// value does not parse.
	ReasonInvalidLoadPolicy Reason = "InvalidLoadBalancing"
)

// SettingProblem is one reportable issue with a traffic-distribution or load-balancing input. It is
// never fatal: the resolution it belongs to is still usable. The hub turns it into a Warning
// Event on the Service.
type SettingProblem struct {
	// Origin is where the offending value was set.
	Origin Origin
	// Key is the annotation key, or "spec.trafficDistribution".
	Key string
	// Value is the offending value, verbatim.
	Value string
	// Reason classifies the problem.
	Reason Reason
	// Err is the underlying error (wrapping one of the sentinels of this package).
	Err error
}

// Error describes the problem for humans: where, which key, which value, and why.
func (p *SettingProblem) Error() string {
	return fmt.Sprintf("%s %s=%q: %v", p.Origin, p.Key, p.Value, p.Err)
}

// Unwrap returns the underlying error so that errors.Is finds the sentinel.
func (p *SettingProblem) Unwrap() error { return p.Err }
