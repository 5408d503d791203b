package controller

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/federation/member"
	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/store"
)

// setStoredStatus sets the Stored condition of a desired GlobalService: True when every record
// of the service was written, else False (NotStored) with the first failure and a count of the
// others.
func setStoredStatus(gs *meshfedv1.GlobalService, failed []*store.RecordError) {
	c := metav1.Condition{Type: string(meshfedv1.GlobalServiceConditionStored), Status: metav1.ConditionTrue,
		Reason: string(meshfedv1.GlobalServiceReasonStored), Message: "every record of the service is in the federation store"}
	if len(failed) > 0 {
		c.Status, c.Reason = metav1.ConditionFalse, string(meshfedv1.GlobalServiceReasonNotStored)
		c.Message = notStoredMessage(failed[0])
		if len(failed) > 1 {
			c.Message += fmt.Sprintf(" (and %d more records)", len(failed)-1)
		}
	}
	meta.SetStatusCondition(&gs.Status.Conditions, c)
}

// notStoredMessage says which record of a service failed and why, for people.
func notStoredMessage(e *store.RecordError) string {
	what := "the service record"
	if e.Key.Kind == store.KindEndpoints {
		what = "the endpoints of cluster " + e.Key.Cluster
	}
	return fmt.Sprintf("the federation store did not take %s; the waypoints keep what it held: %v", what, e.Err)
}

// storeProblems are the Warning Events for records the store did not take: a failed endpoints
// record is reported on its cluster's Service, a failed service record on the Service of every
// exporting cluster.
func storeProblems(res *merge.Result, failures StoreFailures) []clusterProblem {
	if len(failures) == 0 {
		return nil
	}
	var out []clusterProblem
	for i := range res.Services {
		g := &res.Services[i].Global
		for _, e := range failures[merge.KeyOf(g)] {
			p := member.ServiceValueProblem{
				Service:      types.NamespacedName{Namespace: g.Namespace, Name: g.Name},
				ValueProblem: member.ValueProblem{Reason: meshfedv1.GlobalServiceReasonNotStored, Message: notStoredMessage(e)},
			}
			if e.Key.Kind == store.KindEndpoints {
				out = append(out, clusterProblem{Cluster: e.Key.Cluster, ServiceValueProblem: p})
				continue
			}
			for _, x := range g.Exporters {
				out = append(out, clusterProblem{Cluster: x.Cluster, ServiceValueProblem: p})
			}
		}
	}
	return out
}
