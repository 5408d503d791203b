package merge

import (
	"fmt"
	"strconv"

	"github.com/meshfed/meshfed/federation/model"
)

// mergeProperties merges the Service fields a ServiceImport repeats. For each field the oldest
// export that sets it wins; exports that leave it unset (an old store record) neither win nor
// conflict. The session affinity timeout comes with its affinity, from the same export.
// Exports that set different affinities, ClientIP affinities with different timeouts, or
// different internal traffic policies are reported with the MCS reasons. The traffic
// distribution and the IP families are never a conflict of their own: exports that ask for
// different distributions are already a TrafficDistributionConflict (mergeDistribution), and
// the families of a ClusterSetIP import are those of its derived Service.
func mergeProperties(aged []source) (model.ServiceProperties, []*model.Conflict) {
	var out model.ServiceProperties
	affinity := oldestSetting(aged, func(p *model.ServiceProperties) string { return p.SessionAffinity })
	if affinity.winner != nil {
		out.SessionAffinity = affinity.value
		if t := affinity.winner.export.Properties.SessionAffinityTimeout; t != nil {
			v := *t
			out.SessionAffinityTimeout = &v
		}
	}
	timeouts := oldestSetting(aged, func(p *model.ServiceProperties) string {
		if p.SessionAffinity != "ClientIP" {
			return ""
		}
		return timeoutString(p.SessionAffinityTimeout)
	})
	policy := oldestSetting(aged, func(p *model.ServiceProperties) string { return p.InternalTrafficPolicy })
	out.InternalTrafficPolicy = policy.value
	out.TrafficDistribution = oldestSetting(aged, func(p *model.ServiceProperties) string { return p.TrafficDistribution }).value
	for _, s := range aged {
		if fams := s.export.Properties.IPFamilies; len(fams) > 0 {
			out.IPFamilies = append([]string(nil), fams...)
			break
		}
	}
	return out, []*model.Conflict{
		affinity.conflict(model.ReasonSessionAffinityConflict, "session affinity", affinity.winner, out.SessionAffinity),
		timeouts.conflict(model.ReasonSessionAffinityConfigConflict, "session affinity timeout", affinity.winner, timeoutString(out.SessionAffinityTimeout)),
		policy.conflict(model.ReasonInternalTrafficPolicyConflict, "internal traffic policy", policy.winner, out.InternalTrafficPolicy),
	}
}

// timeoutString renders a session affinity timeout as `10s`, or `unset`.
func timeoutString(t *int32) string {
	if t == nil {
		return "unset"
	}
	return strconv.Itoa(int(*t)) + "s"
}

// setting is one field across exports: the oldest export that sets it, its value, and every
// setter's value.
type setting struct {
	winner *source
	value  string
	groups valueGroups
}

// oldestSetting finds the oldest export whose field (read by get) is not empty.
func oldestSetting(aged []source, get func(*model.ServiceProperties) string) setting {
	st := setting{groups: valueGroups{}}
	for i := range aged {
		v := get(&aged[i].export.Properties)
		if v == "" {
			continue
		}
		if st.winner == nil {
			st.winner, st.value = &aged[i], v
		}
		st.groups.add(v, aged[i].cluster())
	}
	return st
}

// conflict is the conflict of the setting when setters disagree, nil otherwise: winner is the
// export whose value the service got (for the timeout, the export whose affinity won), shown
// that value.
func (st setting) conflict(reason model.ConflictReason, what string, winner *source, shown string) *model.Conflict {
	if len(st.groups) < 2 {
		return nil
	}
	return &model.Conflict{
		Reason:   reason,
		Message:  fmt.Sprintf("%s: the oldest export setting it (%s) wins with %s; %s", what, winner.cluster(), shown, st.groups),
		Clusters: st.groups.clusters(),
	}
}
