package status_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/e2e/framework"
)

// TestStatus runs meshfedctl status against a real hub API server whose MemberClusters carry
// the status the hub would write, and checks every column of every row.
func TestStatus(t *testing.T) {
	hub := framework.Start(t, 1, framework.WithNames("hub"), framework.WithScheme(meshfedv1.AddToScheme))[0]
	kubeconfig := hub.KubeconfigFile(t)

	out, errOut := run(t, "status", "--kubeconfig", kubeconfig, "--context", "hub")
	if out != "" || !strings.Contains(errOut, "No member clusters") {
		t.Fatalf("status with no clusters: stdout %q, stderr %q", out, errOut)
	}

	// 30 minutes renders as "30m" for the whole next minute (kubectl shows seconds only below
	// 10 minutes), so a slow machine cannot change the expected cell.
	synced := metav1.NewTime(time.Now().Add(-30 * time.Minute))
	clusters := []struct {
		name, network, segment string
		conditions             []metav1.Condition
		lastSync               *metav1.Time
		exported, imported     int32
	}{
		{"east-1", "net-a", "", []metav1.Condition{
			cond(meshfedv1.MemberClusterConditionReady, metav1.ConditionTrue, meshfedv1.MemberClusterReasonConnected, "reached"),
			cond(meshfedv1.MemberClusterConditionSynced, metav1.ConditionTrue, meshfedv1.MemberClusterReasonCachesSynced, "merged"),
		}, &synced, 4, 2},
		{"west-1", "net-b", "west", []metav1.Condition{
			cond(meshfedv1.MemberClusterConditionReady, metav1.ConditionFalse, meshfedv1.MemberClusterReasonUnreachable, "dial tcp 10.0.0.9:6443:\nconnection refused"),
			cond(meshfedv1.MemberClusterConditionSynced, metav1.ConditionFalse, meshfedv1.MemberClusterReasonStale, "endpoints kept"),
		}, &synced, 1, 0},
		{"north-1", "net-a", "", []metav1.Condition{
			cond(meshfedv1.MemberClusterConditionReady, metav1.ConditionTrue, meshfedv1.MemberClusterReasonConnected, "reached"),
			cond(meshfedv1.MemberClusterConditionSynced, metav1.ConditionFalse, meshfedv1.MemberClusterReasonSyncing, "waiting for caches"),
		}, nil, 0, 0},
		{"south-1", "net-c", "", nil, nil, 0, 0},
	}
	for _, c := range clusters {
		mc := &meshfedv1.MemberCluster{
			ObjectMeta: metav1.ObjectMeta{Name: c.name},
			Spec: meshfedv1.MemberClusterSpec{
				Network: c.network, Segment: c.segment,
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
			Conditions: c.conditions, LastSyncTime: c.lastSync,
			ExportedServices: c.exported, ImportedServices: c.imported,
		}
		if err := hub.Client.Status().Update(t.Context(), mc); err != nil {
			t.Fatal(err)
		}
	}

	out, _ = run(t, "status", "--kubeconfig", kubeconfig, "--context", "hub")
	t.Logf("meshfedctl status:\n%s", out)
	got := rows(out)
	want := [][]string{
		{"NAME", "READY", "NETWORK", "SEGMENT", "LAST SYNC", "EXPORTED", "IMPORTED", "REASON"},
		{"east-1", "True", "net-a", "default", "30m", "4", "2", "-"},
		{"north-1", "True", "net-a", "default", "never", "0", "0", "Syncing: waiting for caches"},
		{"south-1", "Unknown", "net-c", "default", "never", "0", "0", "the hub has not reported on this cluster yet"},
		{"west-1", "False", "net-b", "west", "30m", "1", "0", "Unreachable: dial tcp 10.0.0.9:6443: connection refused"},
	}
	if len(got) != len(want) {
		t.Fatalf("status printed %d lines, want %d:\n%s", len(got), len(want), out)
	}
	for i := range want {
		if strings.Join(got[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("line %d = %q, want %q\n%s", i, got[i], want[i], out)
		}
	}
}

func cond(typ meshfedv1.MemberClusterConditionType, status metav1.ConditionStatus, reason meshfedv1.MemberClusterConditionReason, msg string) metav1.Condition {
	return metav1.Condition{Type: string(typ), Status: status, Reason: string(reason), Message: msg, LastTransitionTime: metav1.Now()}
}

// rows splits tabular output into cells (columns are separated by at least two spaces).
func rows(out string) [][]string {
	sep := regexp.MustCompile(`\s{2,}`)
	var got [][]string
	for line := range strings.Lines(strings.TrimRight(out, "\n")) {
		got = append(got, sep.Split(strings.TrimSpace(line), -1))
	}
	return got
}

func run(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := app.Run(t.Context(), cli.Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, args); err != nil {
		t.Fatalf("meshfedctl %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String(), errOut.String()
}
