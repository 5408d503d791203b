package model

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// OutlierPolicy is a service's outlier-detection configuration, from the annotation
// meshfed.io/outlier-detection. Unset fields keep the waypoint's defaults; a consecutive-error
// threshold of 0 disables that detector (as in Istio).
type OutlierPolicy struct {
	Consecutive5xxErrors           *uint32
	ConsecutiveGatewayErrors       *uint32
	ConsecutiveLocalOriginFailures *uint32
	BaseEjectionTime               *time.Duration
	MaxEjectionTime                *time.Duration
	MaxEjectionPercent             *uint32
}

// The keys of the outlier-detection annotation, named after Istio's OutlierDetection fields.
const (
	OutlierConsecutive5xxErrors           = "consecutive5xxErrors"
	OutlierConsecutiveGatewayErrors       = "consecutiveGatewayErrors"
	OutlierConsecutiveLocalOriginFailures = "consecutiveLocalOriginFailures"
	OutlierBaseEjectionTime               = "baseEjectionTime"
	OutlierMaxEjectionTime                = "maxEjectionTime"
	OutlierMaxEjectionPercent             = "maxEjectionPercent"
)

// Bounds of the outlier-detection values.
const (
	maxConsecutive   = 1000
	maxEjectionLimit = 24 * time.Hour
)

// errOutlierSyntax is wrapped by ParseOutlierPolicy's errors.
var errOutlierSyntax = errors.New("invalid outlier-detection value")

// ParseOutlierPolicy parses "key=value,key=value", e.g.
// "consecutive5xxErrors=3,baseEjectionTime=10s,maxEjectionPercent=50". Whitespace around items
// is ignored; an empty value is the empty policy. Unknown or repeated keys, numbers out of
// range (thresholds 0–1000, percent 0–100) and durations outside 1ms–24h are errors, and
// maxEjectionTime must not be below baseEjectionTime when both are given.
func ParseOutlierPolicy(s string) (OutlierPolicy, error) {
	var p OutlierPolicy
	seen := map[string]bool{}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return OutlierPolicy{}, fmt.Errorf("%w: %q is not key=value", errOutlierSyntax, item)
		}
		if seen[k] {
			return OutlierPolicy{}, fmt.Errorf("%w: %s given twice", errOutlierSyntax, k)
		}
		seen[k] = true
		if err := p.set(k, v); err != nil {
			return OutlierPolicy{}, err
		}
	}
	if p.BaseEjectionTime != nil && p.MaxEjectionTime != nil && *p.MaxEjectionTime < *p.BaseEjectionTime {
		return OutlierPolicy{}, fmt.Errorf("%w: %s %v is below %s %v", errOutlierSyntax,
			OutlierMaxEjectionTime, *p.MaxEjectionTime, OutlierBaseEjectionTime, *p.BaseEjectionTime)
	}
	return p, nil
}

func (p *OutlierPolicy) set(k, v string) error {
	switch k {
	case OutlierConsecutive5xxErrors:
		return parseCount(k, v, maxConsecutive, &p.Consecutive5xxErrors)
	case OutlierConsecutiveGatewayErrors:
		return parseCount(k, v, maxConsecutive, &p.ConsecutiveGatewayErrors)
	case OutlierConsecutiveLocalOriginFailures:
		return parseCount(k, v, maxConsecutive, &p.ConsecutiveLocalOriginFailures)
	case OutlierMaxEjectionPercent:
		return parseCount(k, v, 100, &p.MaxEjectionPercent)
	case OutlierBaseEjectionTime:
		return parseEjection(k, v, &p.BaseEjectionTime)
	case OutlierMaxEjectionTime:
		return parseEjection(k, v, &p.MaxEjectionTime)
	default:
		return fmt.Errorf("%w: unknown key %q", errOutlierSyntax, k)
	}
}

func parseCount(k, v string, limit uint64, dst **uint32) error {
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n > limit {
		return fmt.Errorf("%w: %s=%q is not a whole number in 0-%d", errOutlierSyntax, k, v, limit)
	}
	u := uint32(n)
	*dst = &u
	return nil
}

func parseEjection(k, v string, dst **time.Duration) error {
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Millisecond || d > maxEjectionLimit {
		return fmt.Errorf("%w: %s=%q is not a duration in 1ms-24h", errOutlierSyntax, k, v)
	}
	*dst = &d
	return nil
}

// String formats the policy in the annotation's syntax, keys in a fixed order.
func (p OutlierPolicy) String() string {
	var parts []string
	add := func(k string, v any) { parts = append(parts, fmt.Sprintf("%s=%v", k, v)) }
	if p.Consecutive5xxErrors != nil {
		add(OutlierConsecutive5xxErrors, *p.Consecutive5xxErrors)
	}
	if p.ConsecutiveGatewayErrors != nil {
		add(OutlierConsecutiveGatewayErrors, *p.ConsecutiveGatewayErrors)
	}
	if p.ConsecutiveLocalOriginFailures != nil {
		add(OutlierConsecutiveLocalOriginFailures, *p.ConsecutiveLocalOriginFailures)
	}
	if p.BaseEjectionTime != nil {
		add(OutlierBaseEjectionTime, *p.BaseEjectionTime)
	}
	if p.MaxEjectionTime != nil {
		add(OutlierMaxEjectionTime, *p.MaxEjectionTime)
	}
	if p.MaxEjectionPercent != nil {
		add(OutlierMaxEjectionPercent, *p.MaxEjectionPercent)
	}
	return strings.Join(parts, ",")
}

// Clone returns a deep copy (nil for nil).
func (p *OutlierPolicy) Clone() *OutlierPolicy {
	if p == nil {
		return nil
	}
	out := &OutlierPolicy{}
	out.Consecutive5xxErrors = clonePtr(p.Consecutive5xxErrors)
	out.ConsecutiveGatewayErrors = clonePtr(p.ConsecutiveGatewayErrors)
	out.ConsecutiveLocalOriginFailures = clonePtr(p.ConsecutiveLocalOriginFailures)
	out.BaseEjectionTime = clonePtr(p.BaseEjectionTime)
	out.MaxEjectionTime = clonePtr(p.MaxEjectionTime)
	out.MaxEjectionPercent = clonePtr(p.MaxEjectionPercent)
	return out
}

func clonePtr[T any](v *T) *T {
	if v == nil {
		return nil
	}
	c := *v
	return &c
}

// IsZero reports whether nothing is set.
func (p OutlierPolicy) IsZero() bool { return p.String() == "" }
