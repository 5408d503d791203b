package app

import (
	"fmt"
	"slices"
	"strings"

	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/hbone/identity"
)

// maxCallers bounds the allow list; a longer list is more likely a mistake than a policy.
const maxCallers = 1024

// ParseCallers parses a comma-separated list of SPIFFE IDs (--allow-callers). Blank entries
// are ignored; the result is sorted by ID string and deduplicated. Every entry must be a valid
// SPIFFE ID; an empty list yields nil (the default policy).
func ParseCallers(s string) ([]identity.ID, error) {
	var out []identity.ID
	for i, field := range strings.Split(s, ",") {
		if i >= maxCallers {
			return nil, fmt.Errorf("failed to parse --allow-callers: more than %d entries", maxCallers)
		}
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		id, err := identity.ParseID(field)
		if err != nil {
			return nil, fmt.Errorf("failed to parse --allow-callers entry %q: %w", field, err)
		}
		out = append(out, id)
	}
	slices.SortFunc(out, func(a, b identity.ID) int { return strings.Compare(a.String(), b.String()) })
	return slices.Compact(out), nil
}

// parseTransport maps --hbone-transport to a protocol.
func parseTransport(s string) (hbone.Protocol, error) {
	switch s {
	case "h2":
		return hbone.ProtocolH2, nil
	case "h3":
		return hbone.ProtocolH3, nil
	default:
		return 0, fmt.Errorf("failed to parse --hbone-transport %q: want h2 or h3", s)
	}
}
