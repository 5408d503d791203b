package controller

import (
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/e2e/framework"
)

// TestMembersStandby: a standby registry connects to its members but writes no MemberCluster
// status and records no change; Lead asks for every MemberCluster to be reconciled again, and
// from then on the status is written and changes are recorded; Standby stops both again.
func TestMembersStandby(t *testing.T) {
	ctx := t.Context()
	cs := framework.Start(t, 2, framework.WithNames("hub", "east-1"), framework.WithScheme(meshfedv1.AddToScheme))
	e := &metricsEnv{hub: cs[0], member: cs[1]}
	e.members = NewMembers(cs[0].Client, MembersOptions{
		Namespace: wellknown.SystemNamespace, StaleGrace: time.Minute, ProbeInterval: time.Minute, SyncTimeout: time.Minute, Standby: true,
	}, slog.New(slog.NewTextHandler(io.Discard, nil)), func() {})
	t.Cleanup(e.members.Close)
	e.addMember(t)
	if err := e.members.Warm(ctx); err != nil {
		t.Errorf("Warm after east-1's reconcile = %v, want nil", err)
	}
	// A member whose Secret is missing is tried, not connected: it must not keep the registry
	// unwarm, and before it is tried it must.
	west := &meshfedv1.MemberCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "west-1"},
		Spec:       meshfedv1.MemberClusterSpec{Network: "net-1", KubeconfigSecretRef: meshfedv1.SecretKeyRef{Name: "missing"}},
	}
	if err := cs[0].Client.Create(ctx, west); err != nil {
		t.Fatal(err)
	}
	if err := e.members.Warm(ctx); !errors.Is(err, errNotWarm) || !strings.Contains(err.Error(), "west-1") {
		t.Errorf("Warm before west-1's reconcile = %v, want errNotWarm naming west-1", err)
	}
	if _, err := e.members.Reconcile(ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: "west-1"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.members.Warm(ctx); err != nil {
		t.Errorf("Warm after west-1's failed reconcile = %v, want nil", err)
	}
	if err := cs[0].Client.Delete(ctx, west); err != nil {
		t.Fatal(err)
	}

	if got := e.members.List(time.Now()); len(got) != 1 || got[0].Cluster.Name != "east-1" {
		t.Fatalf("standby connections = %+v, want east-1", got)
	}
	ready := func() *bool {
		var mc meshfedv1.MemberCluster
		if err := cs[0].Client.Get(ctx, client.ObjectKey{Name: "east-1"}, &mc); err != nil {
			t.Fatal(err)
		}
		if c := meta.FindStatusCondition(mc.Status.Conditions, string(meshfedv1.MemberClusterConditionReady)); c != nil {
			v := c.Status == "True"
			return &v
		}
		return nil
	}
	if r := ready(); r != nil {
		t.Fatalf("a standby wrote the Ready condition (%v)", *r)
	}
	slice := &discoveryv1.EndpointSlice{}
	e.members.observe(slice, time.Now())
	if n := len(e.members.takeObserved(time.Now())); n != 0 {
		t.Errorf("a standby recorded %d changes, want none", n)
	}

	if err := e.members.Lead(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-e.members.requeue:
		if ev.Object.GetName() != "east-1" {
			t.Errorf("Lead requeued %s, want east-1", ev.Object.GetName())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Lead did not requeue east-1")
	}
	if _, err := e.members.Reconcile(ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: "east-1"}}); err != nil {
		t.Fatal(err)
	}
	if r := ready(); r == nil || !*r {
		t.Errorf("after Lead the Ready condition is %v, want True", r)
	}
	e.members.observe(slice, time.Now())
	if n := len(e.members.takeObserved(time.Now())); n != 1 {
		t.Errorf("a leader recorded %d changes, want 1", n)
	}

	e.members.Standby()
	e.members.observe(slice, time.Now())
	if n := len(e.members.takeObserved(time.Now())); n != 0 {
		t.Errorf("a registry back on standby recorded %d changes, want none", n)
	}
}
