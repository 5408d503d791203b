package priority

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
)

// ResolveLoad picks a service's load policy from the annotations in src (the spec has no such
// field): for each of meshfed.io/overprovisioning-factor, meshfed.io/panic-threshold and
// meshfed.io/remote-endpoints, the Service's value beats the Namespace's. A value that does not
// parse leaves that setting unset (the waypoint's default) and yields a Problem; the
// Namespace's value is not used instead, as Resolve never falls back to a wider object.
func ResolveLoad(src Sources) (model.LoadPolicy, []*SettingProblem) {
	var (
		p        model.LoadPolicy
		problems []*SettingProblem
	)
	// Each setting parses its value and stores it in p; a failure is reported and stores nothing.
	settings := []struct {
		in  input
		set func(string) error
	}{
		{pick(wellknown.OverprovisioningFactorKey, src.Service.OverprovisioningFactor, src.Namespace.OverprovisioningFactor),
			setter(ParseOverprovisioningFactor, func(v uint32) { p.OverprovisioningFactor = &v })},
		{pick(wellknown.PanicThresholdKey, src.Service.PanicThreshold, src.Namespace.PanicThreshold),
			setter(ParsePanicThreshold, func(v uint32) { p.PanicThreshold = &v })},
		{pick(wellknown.RemoteEndpointsKey, src.Service.RemoteEndpoints, src.Namespace.RemoteEndpoints),
			setter(ParseRemoteEndpoints, func(v model.RemoteEndpoints) { p.RemoteEndpoints = v })},
	}
	for _, s := range settings {
		if s.in.value == "" {
			continue
		}
		if err := s.set(s.in.value); err != nil {
			problems = append(problems, &SettingProblem{Origin: s.in.origin, Key: s.in.key, Value: s.in.value, Reason: ReasonInvalidLoadPolicy, Err: err})
		}
	}
	return p, problems
}

// setter parses a value with parse and hands it to store when it parses.
func setter[T any](parse func(string) (T, error), store func(T)) func(string) error {
	return func(s string) error {
		v, err := parse(s)
		if err != nil {
			return err
		}
		store(v)
		return nil
	}
}

// pick is the Service's value of key if set, else the Namespace's.
func pick(key, service, namespace string) input {
	if service != "" {
		return input{OriginService, key, service}
	}
	return input{OriginNamespace, key, namespace}
}

// ParseOverprovisioningFactor parses a meshfed.io/overprovisioning-factor value: a whole number
// of percent from 1 to 4294967295, as Envoy's overprovisioning_factor (140 means 1.4). Blanks
// around it are ignored.
func ParseOverprovisioningFactor(s string) (uint32, error) {
	v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
	if err != nil || v == 0 {
		return 0, fmt.Errorf("failed to parse overprovisioning factor %q: %w: want a whole number of percent from 1 to %d (140 means 1.4)",
			s, ErrInvalidLoadPolicy, uint32(math.MaxUint32))
	}
	return uint32(v), nil
}

// ParsePanicThreshold parses a meshfed.io/panic-threshold value: a whole number of percent from
// 0 to 100, optionally followed by "%"; 0 disables panic. Blanks around it are ignored.
func ParsePanicThreshold(s string) (uint32, error) {
	v, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(s), "%"), 10, 32)
	if err != nil || v > 100 {
		return 0, fmt.Errorf("failed to parse panic threshold %q: %w: want a whole number of percent from 0 to 100 (0 disables panic)",
			s, ErrInvalidLoadPolicy)
	}
	return uint32(v), nil
}

// ParseRemoteEndpoints parses a meshfed.io/remote-endpoints value: "each" (every endpoint of a
// cluster on another network is a destination of its own, the default) or "aggregated" (one
// destination per such cluster, balanced by that cluster's waypoint). Blanks around it are
// ignored; case is not, as in Kubernetes' own enumerations (sessionAffinity,
// internalTrafficPolicy): "Aggregated" is rejected, not read as "aggregated".
func ParseRemoteEndpoints(s string) (model.RemoteEndpoints, error) {
	switch v := model.RemoteEndpoints(strings.TrimSpace(s)); v {
	case model.RemoteEndpointsEach, model.RemoteEndpointsAggregated:
		return v, nil
	}
	return "", fmt.Errorf("failed to parse remote endpoints %q: %w: want %q (the default) or %q",
		s, ErrInvalidLoadPolicy, model.RemoteEndpointsEach, model.RemoteEndpointsAggregated)
}
