package controller

import (
	"cmp"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/member"
	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/writeback"
)

// GlobalServiceName names the hub mirror of a global service in its namespace: the service
// name in the default domain, <name>.<domain> in any other, so services of different domains
// never collide.
func GlobalServiceName(k merge.Key) string {
	if k.Domain == wellknown.DefaultSegmentDomain {
		return k.Name
	}
	return k.Name + "." + k.Domain
}

// desiredGlobalService builds the hub mirror of one merged service. problems are the member
// problems of Services with the same namespace and name; stale names the stale members.
func desiredGlobalService(svc *merge.Service, ports map[portKey]int32, problems []member.ServiceValueProblem, stale map[string]bool) *meshfedv1.GlobalService {
	g := &svc.Global
	k := merge.KeyOf(g)
	gs := &meshfedv1.GlobalService{
		ObjectMeta: metav1.ObjectMeta{
			Name: GlobalServiceName(k), Namespace: g.Namespace,
			Labels: map[string]string{wellknown.ManagedByLabel: wellknown.ManagedByValue},
		},
		Spec: meshfedv1.GlobalServiceSpec{
			ServiceName: g.Name, Domain: g.Domain, Hostname: g.Hostname,
			Scope: meshfedv1.ServiceScope(g.Scope), Takeover: g.Takeover, Type: meshfedv1.GlobalServiceType(g.Type),
			TrafficDistribution: meshfedv1.TrafficDistribution(g.Distribution.Mode), FailoverPriority: g.Distribution.FailoverPriority,
		},
	}
	for _, p := range g.Ports {
		gs.Spec.Ports = append(gs.Spec.Ports, meshfedv1.GlobalServicePort{
			Name: p.Name, Port: p.Port, Protocol: corev1.Protocol(p.Protocol), AppProtocol: p.AppProtocol,
			WaypointPort: ports[portKey{svc: k, port: p.Port, protocol: p.Protocol}],
		})
	}
	st := &gs.Status
	for _, e := range g.Exporters {
		st.Clusters = append(st.Clusters, meshfedv1.ClusterExportStatus{
			Name: e.Cluster, Scope: meshfedv1.ServiceScope(e.Scope), Endpoints: int32(e.Endpoints), ReadyEndpoints: int32(e.Ready), Stale: stale[e.Cluster],
		})
		st.Endpoints += int32(e.Endpoints)
		st.ReadyEndpoints += int32(e.Ready)
	}
	st.ClusterCount = int32(len(st.Clusters))
	for _, c := range g.Conflicts {
		st.Conflicts = append(st.Conflicts, meshfedv1.ServiceConflict{Reason: string(c.Reason), Message: c.Message, Clusters: c.Clusters})
	}
	setConditions(gs, problems)
	return gs
}

func setConditions(gs *meshfedv1.GlobalService, problems []member.ServiceValueProblem) {
	conflict := metav1.Condition{Type: string(meshfedv1.GlobalServiceConditionConflict), Status: metav1.ConditionFalse,
		Reason: string(meshfedv1.GlobalServiceReasonNoConflict), Message: "every export agrees"}
	if cs := gs.Status.Conflicts; len(cs) > 0 {
		conflict.Status, conflict.Reason, conflict.Message = metav1.ConditionTrue, cs[0].Reason, cs[0].Message
		if len(cs) > 1 {
			conflict.Message += fmt.Sprintf(" (and %d more conflicts)", len(cs)-1)
		}
	}
	meta.SetStatusCondition(&gs.Status.Conditions, conflict)
	valid := metav1.Condition{Type: string(meshfedv1.GlobalServiceConditionValid), Status: metav1.ConditionTrue,
		Reason: string(meshfedv1.GlobalServiceReasonValid), Message: "every value read is usable"}
	if len(problems) > 0 {
		valid.Status, valid.Reason = metav1.ConditionFalse, string(problems[0].Reason)
		valid.Message = problems[0].Message
		if len(problems) > 1 {
			valid.Message += fmt.Sprintf(" (and %d more problems)", len(problems)-1)
		}
	}
	meta.SetStatusCondition(&gs.Status.Conditions, valid)
	takeover := metav1.Condition{Type: string(meshfedv1.GlobalServiceConditionTakeover), Status: metav1.ConditionFalse,
		Reason: string(meshfedv1.GlobalServiceReasonNotRequested), Message: "no export asks for takeover"}
	if gs.Spec.Takeover {
		takeover.Reason = string(meshfedv1.GlobalServiceReasonTakeoverPending)
		takeover.Message = "no member has taken over the cluster-local name yet"
	}
	meta.SetStatusCondition(&gs.Status.Conditions, takeover)
}

// setTakeoverStatus records where the service's takeover of its cluster-local name is active
// (status.takeoverActiveIn) and the Takeover condition: True (TakeoverActive) when it is active
// in every member the import was written to, else False (TakeoverPending) naming the members
// where it is not, with why.
func setTakeoverStatus(gs *meshfedv1.GlobalService, imports []writeback.Import) {
	gs.Status.TakeoverActiveIn = nil
	if !gs.Spec.Takeover {
		return
	}
	var pending []string
	for _, mi := range imports {
		switch {
		case mi.TakeoverActive:
			gs.Status.TakeoverActiveIn = append(gs.Status.TakeoverActiveIn, mi.Cluster)
		case mi.Imported || mi.TakeoverPending != "":
			pending = append(pending, fmt.Sprintf("%s (%s)", mi.Cluster, cmp.Or(mi.TakeoverPending, "not configured")))
		}
	}
	c := metav1.Condition{Type: string(meshfedv1.GlobalServiceConditionTakeover), Status: metav1.ConditionFalse,
		Reason: string(meshfedv1.GlobalServiceReasonTakeoverPending)}
	switch {
	case len(pending) == 0 && len(gs.Status.TakeoverActiveIn) > 0:
		c.Status, c.Reason = metav1.ConditionTrue, string(meshfedv1.GlobalServiceReasonTakeoverActive)
		c.Message = "the cluster-local name reaches the global service in: " + strings.Join(gs.Status.TakeoverActiveIn, ", ")
	case len(pending) == 0:
		c.Message = "no member has taken over the cluster-local name yet"
	default:
		c.Message = "takeover pending in: " + strings.Join(pending, ", ")
		if len(gs.Status.TakeoverActiveIn) > 0 {
			c.Message += "; active in: " + strings.Join(gs.Status.TakeoverActiveIn, ", ")
		}
	}
	meta.SetStatusCondition(&gs.Status.Conditions, c)
}

// setWriteBackStatus puts a write-back outcome on a desired GlobalService: WaypointMissing on
// the exporting clusters' entries, and the WaypointReady condition — False with NameClash
// when a derived name is taken anywhere (it needs a user's action), else False with
// WaypointMissing when an importing member has no waypoint or no namespace, else True.
func setWriteBackStatus(gs *meshfedv1.GlobalService, imports []writeback.Import) {
	var clashes, missing, notReady []string
	gs.Status.ImportedBy = nil
	for _, mi := range imports {
		if mi.Imported {
			gs.Status.ImportedBy = append(gs.Status.ImportedBy, mi.Cluster)
		}
		if mi.WaypointNotReady {
			notReady = append(notReady, mi.Cluster)
		}
		for _, c := range mi.Clashes {
			clashes = append(clashes, mi.Cluster+": "+c)
		}
		switch {
		case mi.NamespaceMissing:
			missing = append(missing, mi.Cluster+" (no namespace)")
		case mi.WaypointMissing:
			missing = append(missing, mi.Cluster)
		}
		if !mi.WaypointMissing && !mi.NamespaceMissing {
			continue
		}
		for i := range gs.Status.Clusters {
			if gs.Status.Clusters[i].Name == mi.Cluster {
				gs.Status.Clusters[i].WaypointMissing = true
			}
		}
	}
	cond := metav1.Condition{Type: string(meshfedv1.GlobalServiceConditionWaypointReady), Status: metav1.ConditionTrue,
		Reason: string(meshfedv1.GlobalServiceReasonWaypointsReady), Message: "every importing cluster has a ready waypoint"}
	switch {
	case len(clashes) > 0:
		cond.Status, cond.Reason = metav1.ConditionFalse, string(meshfedv1.GlobalServiceReasonNameClash)
		cond.Message = fmt.Sprintf("names taken by objects meshfed does not own, left alone: %s", strings.Join(clashes, ", "))
	case len(missing) > 0:
		cond.Status, cond.Reason = metav1.ConditionFalse, string(meshfedv1.GlobalServiceReasonWaypointMissing)
		cond.Message = fmt.Sprintf("no waypoint in namespace %s of: %s", gs.Namespace, strings.Join(missing, ", "))
	case len(notReady) > 0:
		cond.Status, cond.Reason = metav1.ConditionFalse, string(meshfedv1.GlobalServiceReasonWaypointNotReady)
		cond.Message = fmt.Sprintf("the waypoint of namespace %s has no ready pod in: %s", gs.Namespace, strings.Join(notReady, ", "))
	}
	meta.SetStatusCondition(&gs.Status.Conditions, cond)
}
