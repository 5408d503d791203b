package merge

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/meshfed/meshfed/federation/model"
)

// valueGroups collects which clusters hold which value of a property, for conflict messages.
type valueGroups map[string][]string

// add records that the cluster holds the value.
func (g valueGroups) add(value, cluster string) { g[value] = append(g[value], cluster) }

// String lists `<value> in <clusters>` groups sorted by value, clusters sorted and unique.
func (g valueGroups) String() string {
	values := make([]string, 0, len(g))
	for v := range g {
		values = append(values, v)
	}
	slices.Sort(values)
	parts := make([]string, len(values))
	for i, v := range values {
		clusters := slices.Compact(slices.Sorted(slices.Values(g[v])))
		parts[i] = v + " in " + strings.Join(clusters, ", ")
	}
	return strings.Join(parts, "; ")
}

// clusters returns every cluster in the groups, sorted and unique.
func (g valueGroups) clusters() []string {
	var out []string
	for _, cs := range g {
		out = append(out, cs...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// portString renders a port as `"name" 80/TCP appProtocol=h2c`.
func portString(p model.Port) string {
	s := strconv.Quote(p.Name) + " " + strconv.Itoa(int(p.Port)) + "/" + p.Protocol
	if p.AppProtocol != "" {
		s += " appProtocol=" + p.AppProtocol
	}
	return s
}

// portConflict describes a conflicted merged port: every declaration by cluster, and the
// protocol fallback when it applied.
func portConflict(slot *portSlot, fellBack bool) model.Conflict {
	g := valueGroups{}
	for _, d := range slot.decls {
		v := portString(d.port)
		if !d.merged {
			v += " (not merged: the cluster already maps another port here)"
		}
		g.add(v, d.cluster)
	}
	msg := fmt.Sprintf("port %s: the oldest export declaring it (%s) wins; %s", portString(slot.port), slot.decls[0].cluster, g)
	if fellBack {
		msg += fmt.Sprintf("; protocols differ, so the port is plain %s without appProtocol", slot.port.Protocol)
	}
	return model.Conflict{Reason: model.ReasonPortConflict, Message: msg, Clusters: g.clusters()}
}

// normalizeType reads an empty service type as the MCS default, ClusterSetIP.
func normalizeType(t model.ServiceType) model.ServiceType {
	return cmp.Or(t, model.ServiceTypeClusterSetIP)
}

// mergeType returns the oldest export's type and, when exports disagree, a TypeConflict.
func mergeType(aged []source) (model.ServiceType, *model.Conflict) {
	winner := normalizeType(aged[0].export.Type)
	g := valueGroups{}
	for _, s := range aged {
		g.add(string(normalizeType(s.export.Type)), s.cluster())
	}
	if len(g) == 1 {
		return winner, nil
	}
	return winner, &model.Conflict{
		Reason:   model.ReasonTypeConflict,
		Message:  fmt.Sprintf("type: the oldest export (%s) wins with %s; %s", aged[0].cluster(), winner, g),
		Clusters: g.clusters(),
	}
}

// distributionString renders a distribution as `Mode` or `FailoverPriority[k1,k2]`.
func distributionString(d model.Distribution) string {
	if len(d.FailoverPriority) == 0 {
		return string(d.Mode)
	}
	return string(d.Mode) + "[" + strings.Join(d.FailoverPriority, ",") + "]"
}

// mergeDistribution returns the distribution the exports agree on. Exports that did not set
// one never conflict; with no setter, or setters that disagree, the service uses
// model.DefaultBackendMode, and disagreement is a TrafficDistributionConflict.
func mergeDistribution(sorted []source) (model.Distribution, *model.Conflict) {
	def := model.Distribution{Mode: model.DefaultBackendMode}
	var first *model.Distribution
	agree := true
	g := valueGroups{}
	for _, s := range sorted {
		if !s.export.DistributionSet {
			continue
		}
		d := &s.export.Distribution
		g.add(distributionString(*d), s.cluster())
		if first == nil {
			first = d
		}
		agree = agree && first.Equal(*d)
	}
	switch {
	case first == nil:
		return def, nil
	case agree:
		return cloneDistribution(*first), nil
	}
	return def, &model.Conflict{
		Reason:   model.ReasonTrafficDistributionConflict,
		Message:  fmt.Sprintf("traffic distribution: exports disagree, so the service uses the default %s; %s", def.Mode, g),
		Clusters: g.clusters(),
	}
}

// cloneDistribution copies a distribution so the output shares nothing with the input.
func cloneDistribution(d model.Distribution) model.Distribution {
	if len(d.FailoverPriority) == 0 {
		d.FailoverPriority = nil
		return d
	}
	d.FailoverPriority = slices.Clone(d.FailoverPriority)
	return d
}

// compareConflicts orders conflicts by reason, then message.
func compareConflicts(a, b model.Conflict) int {
	return cmp.Or(cmp.Compare(a.Reason, b.Reason), cmp.Compare(a.Message, b.Message))
}

// oldestOutlier is the outlier policy of the oldest export that sets one (MCS: properties of
// the oldest export win), copied.
func oldestOutlier(aged []source) *model.OutlierPolicy {
	for _, s := range aged {
		if s.export.Outlier != nil {
			return s.export.Outlier.Clone()
		}
	}
	return nil
}

// mergeLoad is the load policy of the oldest export that sets one (MCS: properties of the
// oldest export win), copied. Exports that set none never conflict, as with the traffic
// distribution; setters whose policies differ are a LoadPolicyConflict. The whole policy wins,
// not each setting on its own: an overprovisioning factor and a panic threshold are tuned
// together, and a mix of two clusters' settings would be a policy nobody chose.
func mergeLoad(aged []source) (*model.LoadPolicy, *model.Conflict) {
	var winner *source
	g := valueGroups{}
	for i := range aged {
		p := aged[i].export.Load
		if p == nil || p.IsZero() {
			continue
		}
		if winner == nil {
			winner = &aged[i]
		}
		g.add(p.String(), aged[i].cluster())
	}
	if winner == nil {
		return nil, nil
	}
	policy := winner.export.Load.Clone()
	if len(g) == 1 {
		return policy, nil
	}
	return policy, &model.Conflict{
		Reason:   model.ReasonLoadPolicyConflict,
		Message:  fmt.Sprintf("load policy: the oldest export setting one (%s) wins with %s; %s", winner.cluster(), policy, g),
		Clusters: g.clusters(),
	}
}
