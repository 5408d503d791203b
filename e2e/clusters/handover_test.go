package clusters_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/meshfed/meshfed/e2e/system"
	"github.com/meshfed/meshfed/federation/store"
)

// hubHandoverHA measures issue #21's propagation gap of the highly available hub on the real
// clusters: cluster-1's hub is replaced by deploy/hub (two replicas, lease 4 s, an etcd of its
// own: haHub.install), and while cluster-2's EndpointSlice changes arrive at 10/s, the leader is
// deleted (Graceful), the Deployment is restarted (RollingUpdate) and the leader's process is
// killed with SIGKILL (SIGKILL). Each fails when a change never reaches the store or a store key
// of the namespace is deleted or lost, and, with MESHFED_BENCH_BOUNDS=enforce, when the gap
// exceeds its bound: 1 s, 1 s, and the lease plus 1 s.
func (m *mesh) hubHandoverHA(t *testing.T) {
	h := &haHub{mesh: m, cs: m.clientset(t, m.c1)}
	cfg := h.install(t)
	cs := m.exportChurn(t, m.c2)
	for _, s := range []struct {
		name    string
		bound   time.Duration
		disrupt func(t *testing.T) error
	}{
		{"Graceful", time.Second, h.deleteLeader},
		{"RollingUpdate", time.Second, h.rolloutRestart},
		{"SIGKILL", haLeaseDuration + time.Second, h.killLeader},
	} {
		t.Run(s.name, func(t *testing.T) {
			before, fromRev := storeBaseline(t, cfg)
			holders := h.watchLease(t)
			ch := m.churnFrom(t, cs, m.c2, cfg, 10)
			time.Sleep(3 * time.Second)
			err := s.disrupt(t)
			time.Sleep(5 * time.Second) // changes after the handover count too
			r := ch.Stop()
			if err != nil {
				t.Error(err)
			}
			r.Deleted, r.Lost = system.StoreLosses(t, cfg, store.NamespacePrefix(shopNS), fromRev, before, store.NamespacePrefix(shopNS))
			t.Logf("%s's EndpointSlice changes at 10/s across the handover: %s", m.c2.Name, r)
			t.Log(spanned(r, holders()))
			system.AssertGap(t, r, s.bound)
		})
	}
}

// deleteLeader deletes the leader's pod (SIGTERM: it resigns the store and releases the Lease)
// and waits until the standby leads and the Deployment's new pod is ready.
func (m *haHub) deleteLeader(t *testing.T) error {
	ctx := t.Context()
	id, pod, err := m.hubLeader(ctx)
	if err != nil {
		return err
	}
	at := time.Now()
	if _, err := m.set.Kubectl(ctx, m.c1, nil, "-n", "meshfed-system", "delete", "pod", pod, "--wait=false"); err != nil {
		return err
	}
	next, err := m.awaitNewLeader(ctx, id, 30*time.Second)
	if err != nil {
		return err
	}
	t.Logf("leader %s deleted at %s; %s took the Lease %s later", pod, at.Format("15:04:05.000"), next,
		time.Since(at).Round(10*time.Millisecond))
	return m.awaitReplicas(ctx, []string{pod})
}

// rolloutRestart restarts the Deployment (`kubectl rollout restart`, as an upgrade does: a new
// pod, ready, before each old one is stopped) and waits until both new pods are ready and one
// leads.
func (m *haHub) rolloutRestart(t *testing.T) error {
	ctx := t.Context()
	old, err := m.hubPods(ctx)
	if err != nil {
		return err
	}
	var names []string
	for _, p := range old {
		names = append(names, p.Name)
	}
	id, _, err := m.hubLeader(ctx)
	if err != nil {
		return err
	}
	at := time.Now()
	for _, args := range [][]string{
		{"-n", "meshfed-system", "rollout", "restart", "deployment/meshfed-hub"},
		{"-n", "meshfed-system", "rollout", "status", "deployment/meshfed-hub", "--timeout=3m"},
	} {
		if _, err := m.set.Kubectl(ctx, m.c1, nil, args...); err != nil {
			return err
		}
	}
	if err := m.awaitReplicas(ctx, names); err != nil {
		return err
	}
	next, _, err := m.hubLeader(ctx)
	if err != nil {
		return err
	}
	t.Logf("rollout restarted at %s, done %s later: %s led, %s leads", at.Format("15:04:05.000"),
		time.Since(at).Round(100*time.Millisecond), id, next)
	return nil
}

// killLeader kills the leader's process with SIGKILL, through containerd on the node: it neither
// resigns the store nor releases the Lease. The standby takes the Lease once it has gone
// unrenewed for the lease duration; the kubelet restarts the killed container, which then
// stands by.
func (m *haHub) killLeader(t *testing.T) error {
	ctx := t.Context()
	id, pod, status, err := m.runningLeader(ctx)
	if err != nil {
		return err
	}
	at := time.Now()
	if err := m.set.KillContainer(ctx, m.c1, strings.TrimPrefix(status.ContainerID, "containerd://")); err != nil {
		return err
	}
	next, err := m.awaitNewLeader(ctx, id, time.Minute)
	if err != nil {
		return err
	}
	t.Logf("leader %s killed at %s; %s took the Lease %s later (lease %s)", id, at.Format("15:04:05.000"), next,
		time.Since(at).Round(10*time.Millisecond), haLeaseDuration)
	if err := m.awaitReplicas(ctx, nil); err != nil {
		return err
	}
	p, err := m.cs.CoreV1().Pods("meshfed-system").Get(ctx, pod, metav1.GetOptions{})
	if err != nil {
		return err
	}
	after := hubContainer(p)
	if term := after.LastTerminationState.Terminated; after.RestartCount <= status.RestartCount || term == nil || term.ExitCode != 128+9 {
		return fmt.Errorf("the hub container of %s was not killed by SIGKILL: restarts %d then %d, last termination %+v",
			pod, status.RestartCount, after.RestartCount, term)
	}
	return nil
}

// runningLeader is the Lease holder whose hub container is running, in a pod that is ready
// next to a ready standby. On a machine loaded enough for a replica to miss its renewals, the
// holder read a moment ago may have exited; this waits until a leader is up again.
func (m *haHub) runningLeader(ctx context.Context) (id, pod string, status *corev1.ContainerStatus, err error) {
	err = poll(ctx, 2*time.Minute, func() error {
		if err := m.awaitReplicas(ctx, nil); err != nil {
			return err
		}
		if id, pod, err = m.hubLeader(ctx); err != nil {
			return err
		}
		p, err := m.cs.CoreV1().Pods("meshfed-system").Get(ctx, pod, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if status = hubContainer(p); status == nil || status.State.Running == nil {
			return fmt.Errorf("the hub container of leader %s is not running: %+v", pod, status)
		}
		return nil
	})
	return id, pod, status, err
}

// hubContainer is the status of pod p's hub container (nil if it has none).
func hubContainer(p *corev1.Pod) *corev1.ContainerStatus {
	i := slices.IndexFunc(p.Status.ContainerStatuses, func(s corev1.ContainerStatus) bool { return s.Name == "hub" })
	if i < 0 {
		return nil
	}
	return &p.Status.ContainerStatuses[i]
}

// hubLeader is the holder of the Lease meshfed-hub (the replica's identity: its pod's name, "_",
// a random suffix) and its pod.
func (m *haHub) hubLeader(ctx context.Context) (id, pod string, err error) {
	l, err := m.cs.CoordinationV1().Leases("meshfed-system").Get(ctx, "meshfed-hub", metav1.GetOptions{})
	if err != nil {
		return "", "", err
	}
	if l.Spec.HolderIdentity != nil {
		id = *l.Spec.HolderIdentity
	}
	i := strings.LastIndex(id, "_")
	if i <= 0 {
		return id, "", fmt.Errorf("the Lease meshfed-hub is held by %q, not a hub replica", id)
	}
	return id, id[:i], nil
}

// awaitNewLeader waits until a replica other than old holds the Lease, and returns it.
func (m *haHub) awaitNewLeader(ctx context.Context, old string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		id, _, err := m.hubLeader(ctx)
		if err == nil && id != old {
			return id, nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("held by %s", id)
			}
			return "", fmt.Errorf("no replica took the Lease from %s within %s: %w", old, timeout, err)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// hubPods lists the hub's pods that are not being deleted.
func (m *haHub) hubPods(ctx context.Context) ([]corev1.Pod, error) {
	l, err := m.cs.CoreV1().Pods("meshfed-system").List(ctx, metav1.ListOptions{LabelSelector: hubSelector})
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(l.Items, func(p corev1.Pod) bool { return p.DeletionTimestamp != nil }), nil
}

// awaitReplicas waits until two hub pods, none of them in gone, are ready and one of them
// holds the Lease: a standby is there for the next handover.
func (m *haHub) awaitReplicas(ctx context.Context, gone []string) error {
	return poll(ctx, 3*time.Minute, func() error {
		pods, err := m.hubPods(ctx)
		if err != nil {
			return err
		}
		var ready []string
		for _, p := range pods {
			i := slices.IndexFunc(p.Status.Conditions, func(c corev1.PodCondition) bool { return c.Type == corev1.PodReady })
			if i >= 0 && p.Status.Conditions[i].Status == corev1.ConditionTrue && !slices.Contains(gone, p.Name) {
				ready = append(ready, p.Name)
			}
		}
		_, leader, err := m.hubLeader(ctx)
		if err != nil {
			return err
		}
		if len(ready) != 2 || !slices.Contains(ready, leader) {
			return fmt.Errorf("ready hub pods %q, want two, one of them the leader %s", ready, leader)
		}
		return nil
	})
}

// holder is a Lease holder and when the test saw it take the Lease.
type holder struct {
	id string
	at time.Time
}

// watchLease watches the Lease meshfed-hub until the returned function is called, which returns
// every holder seen since, in order.
func (m *haHub) watchLease(t *testing.T) func() []holder {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	var seen []holder
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			w, err := m.cs.CoordinationV1().Leases("meshfed-system").Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=meshfed-hub"})
			if err != nil {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			for ev := range w.ResultChan() {
				l, ok := ev.Object.(*coordinationv1.Lease)
				if !ok || l.Spec.HolderIdentity == nil {
					continue
				}
				if id := *l.Spec.HolderIdentity; len(seen) == 0 || seen[len(seen)-1].id != id {
					seen = append(seen, holder{id: id, at: time.Now()})
				}
			}
			w.Stop()
		}
	}()
	return func() []holder {
		cancel()
		<-done
		return seen
	}
}

// spanned places the longest change of r among the Lease's takeovers (holders after the first):
// the one it waited for, or else the nearest, and lists the holders seen.
func spanned(r system.ChurnReport, holders []holder) string {
	var all []string
	var nearest *holder
	for i, h := range holders {
		all = append(all, fmt.Sprintf("%q at %s", h.id, h.at.Format("15:04:05.000")))
		if i == 0 || h.id == "" {
			continue
		}
		if nearest == nil || h.at.Sub(r.MaxAt).Abs() < nearest.at.Sub(r.MaxAt).Abs() {
			nearest = &holders[i]
		}
	}
	where := "no takeover of the Lease was seen"
	switch {
	case nearest == nil:
	case !nearest.at.Before(r.MaxAt) && !nearest.at.After(r.MaxAt.Add(r.Max)):
		where = fmt.Sprintf("it waited for %s to take the Lease, %v after it was made", nearest.id, nearest.at.Sub(r.MaxAt).Round(time.Millisecond))
	case nearest.at.Before(r.MaxAt):
		where = fmt.Sprintf("made %v after %s took the Lease", r.MaxAt.Sub(nearest.at).Round(time.Millisecond), nearest.id)
	default:
		where = fmt.Sprintf("it arrived %v before %s took the Lease", nearest.at.Sub(r.MaxAt.Add(r.Max)).Round(time.Millisecond), nearest.id)
	}
	return fmt.Sprintf("the longest change (made at %s, %v): %s; Lease holders seen: %s",
		r.MaxAt.Format("15:04:05.000"), r.Max.Round(time.Millisecond), where, strings.Join(all, ", "))
}

// haHub is the highly available hub of cluster-1 (deploy/hub), cs a client of that cluster.
type haHub struct {
	*mesh
	cs *kubernetes.Clientset
}

func TestSpanned(t *testing.T) {
	at := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	r := system.ChurnReport{MaxAt: at, Max: time.Second}
	for _, tc := range []struct {
		name    string
		holders []holder
		want    string
	}{
		{"none", []holder{{"a_1", at.Add(-time.Minute)}}, "no takeover of the Lease was seen"},
		{"waited", []holder{{"a_1", at.Add(-time.Minute)}, {"", at.Add(200 * time.Millisecond)}, {"b_2", at.Add(300 * time.Millisecond)}},
			"it waited for b_2 to take the Lease, 300ms after it was made"},
		{"after", []holder{{"a_1", at.Add(-time.Minute)}, {"b_2", at.Add(-250 * time.Millisecond)}, {"c_3", at.Add(time.Minute)}},
			"made 250ms after b_2 took the Lease"},
		{"before", []holder{{"a_1", at.Add(-time.Minute)}, {"b_2", at.Add(1500 * time.Millisecond)}},
			"it arrived 500ms before b_2 took the Lease"},
	} {
		if got := spanned(r, tc.holders); !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want it to say %q", tc.name, got, tc.want)
		}
	}
}
