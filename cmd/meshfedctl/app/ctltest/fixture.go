package ctltest

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/e2e/framework"
)

// Members creates four member clusters: ready and synced, unreachable, syncing, and one the
// hub has not reported on.
func Members(t *testing.T, hub *framework.Cluster) {
	t.Helper()
	// 30 minutes renders as "30m" for the whole next minute (kubectl shows seconds only below
	// 10 minutes), so a slow machine cannot change the expected cell.
	synced := metav1.NewTime(time.Now().Add(-30 * time.Minute))
	ready := func(status metav1.ConditionStatus, reason meshfedv1.MemberClusterConditionReason, msg string) metav1.Condition {
		c := condition(string(meshfedv1.MemberClusterConditionReady), status, string(reason))
		c.Message = msg
		return c
	}
	syncedCond := func(status metav1.ConditionStatus, reason meshfedv1.MemberClusterConditionReason, msg string) metav1.Condition {
		c := condition(string(meshfedv1.MemberClusterConditionSynced), status, string(reason))
		c.Message = msg
		return c
	}
	clusters := []struct {
		name, network, region, segment string
		conditions                     []metav1.Condition
		lastSync                       *metav1.Time
		exported, imported             int32
	}{
		{"east-1", "net-a", "eu", "", []metav1.Condition{
			ready(metav1.ConditionTrue, meshfedv1.MemberClusterReasonConnected, "reached"),
			syncedCond(metav1.ConditionTrue, meshfedv1.MemberClusterReasonCachesSynced, "merged"),
		}, &synced, 4, 2},
		{"west-1", "net-b", "us", "west", []metav1.Condition{
			ready(metav1.ConditionFalse, meshfedv1.MemberClusterReasonUnreachable, "dial tcp 10.0.0.9:6443:\nconnection refused"),
			syncedCond(metav1.ConditionFalse, meshfedv1.MemberClusterReasonStale, "endpoints kept"),
		}, &synced, 1, 0},
		{"north-1", "net-a", "", "", []metav1.Condition{
			ready(metav1.ConditionTrue, meshfedv1.MemberClusterReasonConnected, "reached"),
			syncedCond(metav1.ConditionFalse, meshfedv1.MemberClusterReasonSyncing, "waiting for caches"),
		}, nil, 0, 0},
		{"south-1", "net-c", "", "", nil, nil, 0, 0},
	}
	for _, c := range clusters {
		mc := &meshfedv1.MemberCluster{
			ObjectMeta: metav1.ObjectMeta{Name: c.name},
			Spec: meshfedv1.MemberClusterSpec{
				Network: c.network, Region: c.region, Segment: c.segment,
				KubeconfigSecretRef: meshfedv1.SecretKeyRef{Name: "member-" + c.name},
			},
		}
		if err := hub.Client.Create(t.Context(), mc); err != nil {
			t.Fatal(err)
		}
		if c.conditions == nil {
			continue
		}
		mc.Status = meshfedv1.MemberClusterStatus{
			Conditions: c.conditions, LastSyncTime: c.lastSync, ExportedServices: c.exported, ImportedServices: c.imported,
		}
		if err := hub.Client.Status().Update(t.Context(), mc); err != nil {
			t.Fatal(err)
		}
	}
}

func condition(typ string, status metav1.ConditionStatus, reason string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: "set by the test", LastTransitionTime: metav1.Now()}
}
