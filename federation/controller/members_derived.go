package controller

import (
	"slices"

	"github.com/meshfed/meshfed/federation/member"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
)

// derivedFrom is what a member's derivation was made from: the connection, how many events its
// caches had seen (Member.Events, read before the caches), the member's site and the trust
// domain of its shared gateways' identities. A pass whose member matches all four reads the
// same caches and derives the same outputs, so it takes the kept ones instead of listing the
// member's objects (at 100 members, most passes serve a change in one).
type derivedFrom struct {
	conn        *member.Connection
	events      uint64
	site        member.Site
	trustDomain string
}

// memberDerived is what a pass derived from one member's objects: its exports (without any
// EndpointsPatch: a patch goes out once, with the pass that made it), its waypoint and gateway
// records, and its problems. Nothing in it is changed once kept; passes append copies of its
// slices to theirs.
type memberDerived struct {
	from      derivedFrom
	exports   []model.ClusterExport
	waypoints []store.Record
	gateways  []store.Record
	problems  []clusterProblem
}

// derivedMembers are the derivations of the members the last gathered pass derived or reused,
// by cluster name. Those of a gather that failed are not kept: every entry's exports are then
// those the memo's last merge took (merge.Input.Same).
type derivedMembers map[string]*memberDerived

// reusable returns the derivation kept for the member from describes when it was made from
// the same (the same connection, events count, site and trust domain); nil otherwise.
func (ds derivedMembers) reusable(from derivedFrom) *memberDerived {
	if d := ds[from.site.Cluster]; d != nil && d.from == from {
		return d
	}
	return nil
}

// deriveMember derives a member's outputs from its objects. exports is what member.Exports
// returned with objs: the exports cache's own list, which nothing modifies once returned, kept
// as it is unless it holds endpoints patches (then a copy without them is kept: a member's
// exports would otherwise be held twice, by its cache and here, ~30 MB at 100 members).
func deriveMember(from derivedFrom, objs *member.Objects) (d *memberDerived, exports []model.ClusterExport) {
	exports, problems := member.Exports(from.site, objs)
	waypoints, wproblems := member.Waypoints(from.site, objs)
	cluster := from.site.Cluster
	records := waypointsRecords(cluster, waypoints, from.trustDomain)
	d = &memberDerived{
		from: from, exports: withoutPatches(exports), waypoints: records,
		gateways: gatewayRecords(cluster, member.Gateways(objs), records),
	}
	for _, pr := range append(problems, wproblems...) {
		d.problems = append(d.problems, clusterProblem{Cluster: cluster, ServiceValueProblem: pr})
	}
	return d, exports
}

// withoutPatches returns exports when none has an endpoints patch, else a copy without them.
func withoutPatches(exports []model.ClusterExport) []model.ClusterExport {
	if !slices.ContainsFunc(exports, func(e model.ClusterExport) bool { return e.EndpointsPatch != nil }) {
		return exports
	}
	out := slices.Clone(exports)
	for i := range out {
		out[i].EndpointsPatch = nil
	}
	return out
}

// addDerived adds a member's derivation to the pass and keeps it for the next pass. exports
// are the pass's exports of the member (with this pass's endpoints patches, when derived now);
// same says the derivation was reused, so the exports are exactly those of the last merge.
func (p *pass) addDerived(d *memberDerived, exports []model.ClusterExport, same bool) {
	cluster := d.from.site.Cluster
	p.exports = p.fill.add(p.exports, cluster, d, exports, same)
	p.waypoints = append(p.waypoints, d.waypoints...)
	p.gateways = append(p.gateways, d.gateways...)
	p.problems = append(p.problems, d.problems...)
	if p.derived == nil {
		p.derived = derivedMembers{}
	}
	p.derived[cluster] = d
	if same {
		if p.same == nil {
			p.same = map[string]bool{}
		}
		p.same[cluster] = true
	}
}
