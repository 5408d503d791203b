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
// field): for each of meshfed.io/overprovisioning-factor and meshfed.io/panic-threshold, the
// Service's value beats the Namespace's. A value that does not parse leaves that setting unset
// (the waypoint's default) and yields a Problem; the Namespace's value is not used instead, as
// Resolve never falls back to a wider object.
func ResolveLoad(src Sources) (model.LoadPolicy, []*SettingProblem) {
	var (
		p        model.LoadPolicy
		problems []*SettingProblem
	)
	settings := []struct {
		in    input
		parse func(string) (uint32, error)
		dst   **uint32
	}{
		{pick(wellknown.OverprovisioningFactorKey, src.Service.OverprovisioningFactor, src.Namespace.OverprovisioningFactor),
			ParseOverprovisioningFactor, &p.OverprovisioningFactor},
		{pick(wellknown.PanicThresholdKey, src.Service.PanicThreshold, src.Namespace.PanicThreshold),
			ParsePanicThreshold, &p.PanicThreshold},
	}
	for _, s := range settings {
		if s.in.value == "" {
			continue
		}
		v, err := s.parse(s.in.value)
		if err != nil {
			problems = append(problems, &SettingProblem{Origin: s.in.origin, Key: s.in.key, Value: s.in.value, Reason: ReasonInvalidLoadPolicy, Err: err})
			continue
		}
		*s.dst = &v
	}
	return p, problems
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
