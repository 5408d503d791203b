package priority

import (
	"errors"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
)

// Resolution is the outcome of Resolve: the distribution to use, whether a user chose it, and
// anything worth a Warning.
type Resolution struct {
	// Distribution is the distribution to rank endpoints by; always valid.
	Distribution model.Distribution
	// Explicit reports whether Distribution comes from the Service or its Namespace (the
	// ClusterExport's DistributionSet): a valid value, or an unknown Istio annotation value,
	// which means Any. Any other invalid value is not explicit: the default applies.
	Explicit bool
	// Origin is where Distribution came from; OriginDefault when nothing valid decided.
	Origin Origin
	// Problems lists invalid or ignored values; empty when all is well.
	Problems []*SettingProblem
}

// Resolve picks a Service's traffic distribution from its sources, in this precedence:
// spec.trafficDistribution, then the Service's annotations, then the Namespace's, then def.
// Inside one object, meshfed.io/failover-priority beats meshfed.io/traffic-distribution, which
// beats networking.istio.io/traffic-distribution; a losing value that means something else is
// reported (ReasonIgnoredValue). The most specific level with any value set decides: if that
// value is invalid, the result is def with a Problem, and less specific levels are not consulted,
// so a typo never silently falls back to a Namespace-wide setting. The one exception is Istio's
// own key: an unknown networking.istio.io/traffic-distribution value means Any, as in Istio,
// still with a Problem. def must not be ModeFailoverPriority.
func Resolve(src Sources, def model.Mode) Resolution {
	for _, level := range src.levels() {
		set := setInputs(level)
		if len(set) > 0 {
			return resolveLevel(set, def)
		}
	}
	return defaultResolution(def, nil)
}

// setInputs keeps the inputs with a value.
func setInputs(level []input) []input {
	var set []input
	for _, in := range level {
		if in.value != "" {
			set = append(set, in)
		}
	}
	return set
}

// resolveLevel decides from the set inputs of one object; set[0] wins.
func resolveLevel(set []input, def model.Mode) Resolution {
	winner, err := parseInput(set[0])
	if err != nil {
		problems := []*SettingProblem{problemFor(set[0], err)}
		if set[0].key != wellknown.IstioTrafficDistributionKey {
			return defaultResolution(def, problems)
		}
		// Istio reads an unknown value of its annotation as Any (model.GetTrafficDistribution).
		return Resolution{Distribution: model.Distribution{Mode: model.ModeAny}, Explicit: true, Origin: set[0].origin, Problems: problems}
	}
	res := Resolution{Distribution: winner, Explicit: true, Origin: set[0].origin}
	for _, loser := range set[1:] {
		if d, err := parseInput(loser); err != nil || !d.Equal(winner) {
			res.Problems = append(res.Problems, ignoredProblem(loser, set[0]))
		}
	}
	return res
}

// defaultResolution is def with the given problems.
func defaultResolution(def model.Mode, problems []*SettingProblem) Resolution {
	return Resolution{Distribution: model.Distribution{Mode: def}, Origin: OriginDefault, Problems: problems}
}

// parseInput parses one input according to its key.
func parseInput(in input) (model.Distribution, error) {
	switch in.key {
	case SpecKey:
		mode, err := ParseSpecMode(in.value)
		return model.Distribution{Mode: mode}, err
	case wellknown.FailoverPriorityKey:
		keys, err := ParseFailoverPriority(in.value)
		return model.Distribution{Mode: model.ModeFailoverPriority, FailoverPriority: keys}, err
	default:
		mode, err := ParseMode(in.value)
		return model.Distribution{Mode: mode}, err
	}
}

// problemFor reports an input that failed to parse.
func problemFor(in input, err error) *SettingProblem {
	reason := ReasonUnknownMode
	if errors.Is(err, ErrInvalidFailoverPriority) {
		reason = ReasonInvalidFailoverPriority
	}
	return &SettingProblem{Origin: in.origin, Key: in.key, Value: in.value, Reason: reason, Err: err}
}

// ignoredProblem reports an input that lost to another key on the same object.
func ignoredProblem(loser, winner input) *SettingProblem {
	return &SettingProblem{
		Origin: loser.origin, Key: loser.key, Value: loser.value, Reason: ReasonIgnoredValue,
		Err: &ignoredError{winnerKey: winner.key},
	}
}

// ignoredError explains which key a value lost to.
type ignoredError struct{ winnerKey string }

// Error names the winning key.
func (e *ignoredError) Error() string { return "ignored in favour of " + e.winnerKey }
