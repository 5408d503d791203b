package controller

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
)

// readyCondition is the Ready condition of a connected member: False while its probes fail or
// while it is a second name for an older member's cluster, else True.
func readyCondition(m *Member) metav1.Condition {
	c := metav1.Condition{Type: string(meshfedv1.MemberClusterConditionReady), Status: metav1.ConditionTrue,
		Reason: string(meshfedv1.MemberClusterReasonConnected), Message: "the hub reaches the member's API server"}
	switch {
	case m.ProbeReason != "":
		c.Status, c.Reason = metav1.ConditionFalse, string(m.ProbeReason)
		c.Message = "the hub's probe of the member's API server failed: " + m.ProbeError
	case m.DuplicateOf != "":
		c.Status, c.Reason = metav1.ConditionFalse, string(meshfedv1.MemberClusterReasonDuplicateCluster)
		c.Message = fmt.Sprintf("the same cluster (kube-system namespace UID %s) is already joined as member %s; only %s is federated",
			m.ClusterID, m.DuplicateOf, m.DuplicateOf)
	}
	return c
}

// writeReady writes the Ready condition of a connected member from its current state, when it
// changed.
func (m *Members) writeReady(ctx context.Context, name string) error {
	st, ok := m.Get(name, time.Now())
	if !ok {
		return nil
	}
	return m.writeCondition(ctx, name, readyCondition(&st))
}

// logReady is writeReady for callers that cannot retry: a failure is logged, and the next probe
// change or reconcile writes the condition again.
func (m *Members) logReady(ctx context.Context, name string) {
	if err := m.writeReady(ctx, name); err != nil && ctx.Err() == nil {
		m.log.Warn("cannot write member status", "member", name, "error", err)
	}
}

// writeReadyAll rewrites the Ready condition of every connected member: a member leaving can
// end another's duplicate state.
func (m *Members) writeReadyAll(ctx context.Context) {
	for _, st := range m.List(time.Now()) {
		m.logReady(ctx, st.Cluster.Name)
	}
}

// writeCondition reads the MemberCluster name and writes one condition, only when it changed.
func (m *Members) writeCondition(ctx context.Context, name string, c metav1.Condition) error {
	var mc meshfedv1.MemberCluster
	if err := m.hub.Get(ctx, client.ObjectKey{Name: name}, &mc); err != nil {
		return client.IgnoreNotFound(err)
	}
	return m.setCondition(ctx, &mc, meshfedv1.MemberClusterConditionType(c.Type), c.Status, c.Reason, c.Message)
}
