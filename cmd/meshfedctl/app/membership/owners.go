package membership

import (
	"slices"
	"strings"

	"github.com/meshfed/meshfed/apis/wellknown"
)

// JoinID names one join: the member's name on one hub, as <member name>@<hub cluster ID>. The
// same cluster joined into two hubs, or under two names, is two joins; joining again under the
// same name into the same hub is the same join.
func JoinID(member, hubClusterID string) string { return member + "@" + hubClusterID }

// HubOwner marks the hub's own namespace as used by the hub: it holds every member's Secret, so
// unjoining the hub cluster itself as a member never deletes it.
const HubOwner = "hub"

// Owners parses the value of wellknown.OwnersAnnotation: the join IDs it lists, sorted and
// without duplicates or empty entries. Anything else in the value is kept as an opaque entry,
// so an entry written by a newer meshfedctl is never lost.
func Owners(value string) []string {
	var out []string
	for e := range strings.SplitSeq(value, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// formatOwners is the annotation value listing owners.
func formatOwners(owners []string) string { return strings.Join(owners, ",") }

// addOwner returns annotations with join added to the owners list (a new map; annotations is
// not changed).
func addOwner(annotations map[string]string, join string) map[string]string {
	owners := Owners(annotations[wellknown.OwnersAnnotation])
	if !slices.Contains(owners, join) {
		owners = append(owners, join)
		slices.Sort(owners)
	}
	out := make(map[string]string, len(annotations)+1)
	for k, v := range annotations {
		out[k] = v
	}
	out[wellknown.OwnersAnnotation] = formatOwners(owners)
	return out
}

// release is what unjoin does with an object meshfed manages, given its annotations.
type release struct {
	// del: no join uses the object any more (or it predates ownership marks: then the only
	// join that could have written it is the one leaving).
	del bool
	// others are the joins still using it when it is kept.
	others []string
	// annotations are the object's annotations without join's entry, to write when kept.
	annotations map[string]string
}

// releaseOwner decides what unjoin of join does with an object carrying annotations.
func releaseOwner(annotations map[string]string, join string) release {
	value, marked := annotations[wellknown.OwnersAnnotation]
	if !marked {
		return release{del: true}
	}
	others := slices.DeleteFunc(Owners(value), func(o string) bool { return o == join })
	if len(others) == 0 {
		return release{del: true}
	}
	out := make(map[string]string, len(annotations))
	for k, v := range annotations {
		out[k] = v
	}
	out[wellknown.OwnersAnnotation] = formatOwners(others)
	return release{others: others, annotations: out}
}
