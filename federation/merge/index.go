package merge

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
)

// member is a member cluster with its segment's resolved domain.
type member struct {
	cluster model.Cluster
	domain  string
}

// index resolves cluster names to members and lists the members in name order.
type index struct {
	members map[string]*member
	names   []string
}

// newIndex builds the index of the member clusters. Duplicate and unnamed clusters, and
// duplicate segments, are resolved independently of input order and reported.
func newIndex(clusters []model.Cluster, segments []model.Segment) (*index, []InputProblem) {
	domains, problems := segmentDomains(segments)
	chosen, clusterProblems := uniqueClusters(clusters)
	problems = append(problems, clusterProblems...)
	idx := &index{members: make(map[string]*member, len(chosen))}
	for name, c := range chosen {
		idx.members[name] = &member{cluster: c, domain: domainOf(domains, c.Segment)}
		idx.names = append(idx.names, name)
	}
	slices.Sort(idx.names)
	return idx, problems
}

// domainOf is the domain of a segment: its own, or the default when the segment has no object
// or an empty domain.
func domainOf(domains map[string]string, segment string) string {
	if d := domains[segment]; d != "" {
		return d
	}
	return wellknown.DefaultSegmentDomain
}

// segmentDomains maps segment names to domains. A segment listed twice keeps the smallest
// domain (an order-independent choice) and is reported once.
func segmentDomains(segments []model.Segment) (map[string]string, []InputProblem) {
	domains := make(map[string]string, len(segments))
	seen := make(map[string]int, len(segments))
	for _, s := range segments {
		d := cmp.Or(s.Domain, wellknown.DefaultSegmentDomain)
		seen[s.Name]++
		if old, ok := domains[s.Name]; !ok || d < old {
			domains[s.Name] = d
		}
	}
	var problems []InputProblem
	for name, n := range seen {
		if n > 1 {
			problems = append(problems, InputProblem{
				Reason:  ProblemDuplicateSegment,
				Segment: name,
				Message: fmt.Sprintf("segment %q is listed %d times; using domain %q", name, n, domains[name]),
			})
		}
	}
	return domains, problems
}

// uniqueClusters keeps one cluster per name: the smallest by (segment, network, region), an
// order-independent choice. Duplicates and unnamed clusters are reported.
func uniqueClusters(clusters []model.Cluster) (map[string]model.Cluster, []InputProblem) {
	chosen := make(map[string]model.Cluster, len(clusters))
	seen := make(map[string]int, len(clusters))
	var problems []InputProblem
	for _, c := range clusters {
		if c.Name == "" {
			problems = append(problems, InputProblem{
				Reason:  ProblemInvalidCluster,
				Segment: c.Segment,
				Message: fmt.Sprintf("a cluster without a name (segment %q, network %q) is ignored", c.Segment, c.Network),
			})
			continue
		}
		seen[c.Name]++
		if old, ok := chosen[c.Name]; !ok || compareClusters(c, old) < 0 {
			chosen[c.Name] = c
		}
	}
	for name, n := range seen {
		if n > 1 {
			c := chosen[name]
			problems = append(problems, InputProblem{
				Reason:  ProblemDuplicateCluster,
				Cluster: name,
				Message: fmt.Sprintf("cluster %q is listed %d times; using segment %q, network %q, region %q", name, n, c.Segment, c.Network, c.Region),
			})
		}
	}
	return chosen, problems
}

// compareClusters orders clusters of one name by their other fields.
func compareClusters(a, b model.Cluster) int {
	return cmp.Or(
		cmp.Compare(a.Segment, b.Segment),
		cmp.Compare(a.Network, b.Network),
		cmp.Compare(a.Region, b.Region),
	)
}
