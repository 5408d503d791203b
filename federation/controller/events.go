package controller

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/federation/member"
	"github.com/meshfed/meshfed/federation/merge"
)

// eventTimeout bounds the Event writes of one pass into one member.
const eventTimeout = 5 * time.Second

// clusterProblem is a member.ServiceProblem of one member cluster.
type clusterProblem struct {
	Cluster string
	member.ServiceValueProblem
}

// problemKey identifies a reported problem; the same problem is reported once while it lasts.
type problemKey struct {
	cluster, namespace, name, reason, message string
}

func keyOf(p clusterProblem) problemKey {
	return problemKey{p.Cluster, p.Service.Namespace, p.Service.Name, string(p.Reason), p.Message}
}

// reportProblems records a Warning Event on the member's Service for every problem that is new
// since the last pass, and forgets problems that went away, so a problem that comes back is
// reported again. A member that cannot take the Event now is retried on the next pass.
func (f *Federation) reportProblems(ctx context.Context, problems []clusterProblem) {
	conns := map[string]*member.Connection{}
	for _, m := range f.members.List(f.now()) {
		if !m.Stale && m.Federated() {
			conns[m.Cluster.Name] = m.Conn
		}
	}
	current := map[problemKey]bool{}
	for _, p := range problems {
		k := keyOf(p)
		current[k] = true
		conn := conns[p.Cluster]
		if f.reported[k] || conn == nil {
			continue
		}
		ectx, cancel := context.WithTimeout(ctx, eventTimeout)
		err := conn.Cluster().GetClient().Create(ectx, warningEvent(p, f.now()))
		cancel()
		if err != nil {
			f.log.Warn("cannot record event in member", "member", p.Cluster, "service", p.Service.String(), "error", err)
			continue
		}
		f.log.Warn("unusable value in member", "member", p.Cluster, "service", p.Service.String(), "reason", p.Reason, "message", p.Message)
		f.reported[k] = true
	}
	for k := range f.reported {
		if !current[k] {
			delete(f.reported, k)
		}
	}
}

// warningEvent is the Event recorded on a member's Service for a problem.
func warningEvent(p clusterProblem, now time.Time) *corev1.Event {
	ts := metav1.NewTime(now)
	return &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Namespace: p.Service.Namespace, GenerateName: p.Service.Name + ".meshfed-"},
		InvolvedObject: corev1.ObjectReference{
			APIVersion: "v1", Kind: "Service", Namespace: p.Service.Namespace, Name: p.Service.Name,
		},
		Type:                corev1.EventTypeWarning,
		Reason:              string(p.Reason),
		Message:             p.Message,
		Source:              corev1.EventSource{Component: "meshfed-hub"},
		ReportingController: "meshfed.io/hub",
		ReportingInstance:   "meshfed-hub",
		FirstTimestamp:      ts,
		LastTimestamp:       ts,
		Count:               1,
	}
}

// conflictProblems turns every conflict of the merge into a problem of each Service it names,
// so that each member whose export is in a conflict gets a Warning Event on its Service.
func conflictProblems(res *merge.Result) []clusterProblem {
	var out []clusterProblem
	for i := range res.Services {
		g := &res.Services[i].Global
		for _, c := range g.Conflicts {
			for _, cluster := range c.Clusters {
				out = append(out, clusterProblem{Cluster: cluster, ServiceValueProblem: member.ServiceValueProblem{
					Service:      types.NamespacedName{Namespace: g.Namespace, Name: g.Name},
					ValueProblem: member.ValueProblem{Reason: meshfedv1.GlobalServiceConditionReason(c.Reason), Message: c.Message},
				}})
			}
		}
	}
	return out
}
