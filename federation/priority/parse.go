package priority

import (
	"fmt"
	"strings"

	"github.com/meshfed/meshfed/federation/model"
)

// annotationModes are the values ParseMode accepts, by their lower-case spelling.
var annotationModes = map[string]model.Mode{
	"any":            model.ModeAny,
	"prefernetwork":  model.ModePreferNetwork,
	"prefercluster":  model.ModePreferCluster,
	"preferregion":   model.ModePreferRegion,
	"preferclose":    model.ModePreferClose,
	"prefersamezone": model.ModePreferClose,
	"prefersamenode": model.ModePreferSameNode,
}

// ParseMode parses a traffic-distribution annotation value (meshfed.io/traffic-distribution or
// networking.istio.io/traffic-distribution). Values match case-insensitively, as Istio matches
// its annotation (both sides lower-cased with strings.ToLower). PreferSameZone is read as
// PreferClose: Kubernetes and Istio give the two names one meaning, and meshfed stores the older
// name. FailoverPriority is not accepted here: that mode is selected by
// meshfed.io/failover-priority with its key list.
func ParseMode(value string) (model.Mode, error) {
	if mode, ok := annotationModes[strings.ToLower(value)]; ok {
		return mode, nil
	}
	return "", fmt.Errorf("failed to parse traffic distribution %q: %w", value, ErrUnknownMode)
}

// ParseSpecMode parses spec.trafficDistribution. Only the Kubernetes values are accepted, with
// the API server's (and Istio's) exact case: PreferClose, PreferSameZone (read as PreferClose)
// and PreferSameNode.
func ParseSpecMode(value string) (model.Mode, error) {
	switch value {
	case "PreferClose", "PreferSameZone":
		return model.ModePreferClose, nil
	case "PreferSameNode":
		return model.ModePreferSameNode, nil
	}
	return "", fmt.Errorf("failed to parse spec.trafficDistribution %q: %w", value, ErrUnknownMode)
}

// ParseFailoverPriority parses a meshfed.io/failover-priority value: a comma-separated list of
// Kubernetes label keys, each optionally followed by "=value" to compare endpoints against that
// value instead of the client's own (as Istio's failoverPriority does). Blanks around entries are
// trimmed; empty entries, invalid keys or values, and repeated keys are errors.
func ParseFailoverPriority(value string) ([]string, error) {
	if strings.TrimSpace(value) == "" {
		return nil, fmt.Errorf("failed to parse failover priority %q: %w: empty list", value, ErrInvalidFailoverPriority)
	}
	parts := strings.Split(value, ",")
	keys := make([]string, 0, len(parts))
	seen := make(map[string]bool, len(parts))
	for _, part := range parts {
		entry := strings.TrimSpace(part)
		key, err := checkFailoverEntry(entry)
		if err != nil {
			return nil, fmt.Errorf("failed to parse failover priority %q: %w", value, err)
		}
		if seen[key] {
			return nil, fmt.Errorf("failed to parse failover priority %q: %w: key %q repeated", value, ErrInvalidFailoverPriority, key)
		}
		seen[key] = true
		keys = append(keys, entry)
	}
	return keys, nil
}

// FormatFailoverPriority is the inverse of ParseFailoverPriority for a parsed list.
func FormatFailoverPriority(keys []string) string { return strings.Join(keys, ",") }

// checkFailoverEntry validates one "key" or "key=value" entry and returns its key.
func checkFailoverEntry(entry string) (string, error) {
	key, val, hasVal := strings.Cut(entry, "=")
	if !isQualifiedName(key) {
		return "", fmt.Errorf("%w: %q is not a valid label key", ErrInvalidFailoverPriority, key)
	}
	if hasVal && !isLabelValue(val) {
		return "", fmt.Errorf("%w: %q is not a valid label value", ErrInvalidFailoverPriority, val)
	}
	return key, nil
}
