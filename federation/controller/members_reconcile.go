package controller

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/federation/member"
)

// Reconcile keeps the member connection of one MemberCluster in line with its spec and Secret:
// gather (the MemberCluster and its Secret) → validate the kubeconfig → connect when the
// credentials changed (make-before-break: the old connection serves until the new one synced)
// → status.
func (m *Members) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var mc meshfedv1.MemberCluster
	if err := m.hub.Get(ctx, req.NamespacedName, &mc); err != nil {
		if apierrors.IsNotFound(err) {
			if m.drop(req.Name) {
				m.writeReadyAll(ctx)
			}
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, fmt.Errorf("failed to get membercluster %s: %w", req.Name, err)
	}
	defer m.markTried(mc.Name)
	kubeconfig, reason, err := m.readSecret(ctx, &mc)
	if err != nil {
		return m.notReady(ctx, &mc, reason, err)
	}
	cfg, err := member.RESTConfigFromKubeconfig(kubeconfig)
	if err != nil {
		_, serr := m.notReady(ctx, &mc, meshfedv1.MemberClusterReasonInvalidKubeconfig, err)
		return reconcile.Result{}, errors.Join(reconcile.TerminalError(err), serr)
	}
	hash := sha256.Sum256(kubeconfig)
	if m.update(&mc, hash) {
		m.changed()
		return reconcile.Result{}, m.writeReady(ctx, mc.Name)
	}
	if err := m.connect(ctx, &mc, hash, cfg); err != nil {
		if ctx.Err() != nil {
			return reconcile.Result{}, nil // the hub is stopping or handing over: nothing to report
		}
		return m.notReady(ctx, &mc, meshfedv1.MemberClusterReasonUnreachable, err)
	}
	m.changed()
	return reconcile.Result{}, m.writeReady(ctx, mc.Name)
}

// update refreshes the spec of an existing connection with the same credentials and reports
// whether there was one.
func (m *Members) update(mc *meshfedv1.MemberCluster, hash [sha256.Size]byte) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.conns[mc.Name]
	if !ok || cur.credHash != hash {
		return false
	}
	cur.mu.Lock()
	cur.cluster = clusterOf(mc)
	cur.mu.Unlock()
	return true
}

func (m *Members) readSecret(ctx context.Context, mc *meshfedv1.MemberCluster) ([]byte, meshfedv1.MemberClusterConditionReason, error) {
	ref := mc.Spec.KubeconfigSecretRef
	var s corev1.Secret
	if err := m.hub.Get(ctx, client.ObjectKey{Namespace: m.opts.Namespace, Name: ref.Name}, &s); err != nil {
		return nil, meshfedv1.MemberClusterReasonSecretNotFound, fmt.Errorf("failed to get secret %s/%s: %w", m.opts.Namespace, ref.Name, err)
	}
	key := ref.Key
	if key == "" {
		key = "kubeconfig"
	}
	data, ok := s.Data[key]
	if !ok {
		return nil, meshfedv1.MemberClusterReasonSecretNotFound, fmt.Errorf("secret %s/%s has no key %q", m.opts.Namespace, ref.Name, key)
	}
	return data, "", nil
}

// connect starts a new connection, waits for its caches, then swaps it in and closes the old.
func (m *Members) connect(ctx context.Context, mc *meshfedv1.MemberCluster, hash [sha256.Size]byte, cfg *rest.Config) error {
	conn, err := member.Connect(mc.Name, cfg, m.log)
	if err != nil {
		return err
	}
	syncCtx, cancel := context.WithTimeout(ctx, m.opts.SyncTimeout)
	defer cancel()
	if err := conn.Start(syncCtx); err != nil {
		conn.Close()
		return err
	}
	next := &memberConn{conn: conn, credHash: hash, cluster: clusterOf(mc), lastSync: time.Now(), created: mc.CreationTimestamp.Time}
	if err := m.watchChanges(ctx, next); err != nil {
		conn.Close()
		return err
	}
	probeCtx, stopProbe := context.WithCancel(context.Background())
	next.stopProbe = stopProbe
	m.mu.Lock()
	old := m.conns[mc.Name]
	m.conns[mc.Name] = next
	m.mu.Unlock()
	go m.probe(probeCtx, next, cfg)
	if old != nil {
		old.close()
	}
	m.log.Info("member connected", "member", mc.Name, "mcs", conn.HasMCS())
	return nil
}

// watchChanges makes every event of the member's caches that may change what the hub
// derives count in mc.events (before it wakes the federation loop, see Member.Events) and wake
// the loop, and notes when a change (not the initial list) was observed, for the propagation
// histogram. Each connection has its handler.
func (m *Members) watchChanges(ctx context.Context, mc *memberConn) error {
	conn := mc.conn
	h := m.changeHandler(mc)
	for _, obj := range conn.Watched() {
		inf, err := conn.Cluster().GetCache().GetInformer(ctx, obj)
		if err != nil {
			return fmt.Errorf("failed to get informer of member %s: %w", conn.Name(), err)
		}
		if _, err := inf.AddEventHandler(h); err != nil {
			return fmt.Errorf("failed to watch member %s: %w", conn.Name(), err)
		}
	}
	return nil
}

// changeHandler is watchChanges' handler for mc. An update of a Node that changes none of
// its labels changes nothing the hub reads of it (the caches keep only its labels, see
// member.CacheTransform): it is not counted and wakes nothing. A Node's status changes every
// few minutes or more often, and a pass would otherwise derive its member's exports again.
func (m *Members) changeHandler(mc *memberConn) toolscache.ResourceEventHandlerDetailedFuncs {
	changed := func() {
		mc.events.Add(1)
		m.changed()
	}
	return toolscache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj any, initial bool) {
			if !initial {
				m.observe(obj, time.Now())
			}
			changed()
		},
		UpdateFunc: func(old, obj any) {
			if !changesLabels(old, obj) {
				return
			}
			m.observe(obj, time.Now())
			changed()
		},
		DeleteFunc: func(obj any) { m.observe(obj, time.Now()); changed() },
	}
}

// changesLabels reports whether an update from old to obj may change what the hub reads:
// false only for two versions of a Node with the same labels.
func changesLabels(old, obj any) bool {
	o, ok := old.(*corev1.Node)
	n, ok2 := obj.(*corev1.Node)
	return !ok || !ok2 || !maps.Equal(o.Labels, n.Labels)
}

// drop closes and forgets the connection of a member that is gone, and reports whether there
// was one.
func (m *Members) drop(name string) bool {
	m.mu.Lock()
	old := m.conns[name]
	delete(m.conns, name)
	m.mu.Unlock()
	if old == nil {
		return false
	}
	old.close()
	m.log.Info("member removed", "member", name)
	m.changed()
	return true
}

func (m *Members) notReady(ctx context.Context, mc *meshfedv1.MemberCluster, reason meshfedv1.MemberClusterConditionReason, cause error) (reconcile.Result, error) {
	m.log.Warn("member not ready", "member", mc.Name, "reason", reason, "error", cause)
	if err := m.setCondition(ctx, mc, meshfedv1.MemberClusterConditionReady, metav1.ConditionFalse, string(reason), cause.Error()); err != nil {
		return reconcile.Result{}, err
	}
	return reconcile.Result{RequeueAfter: 10 * time.Second}, nil
}

// setCondition writes one condition, only when it changed, and not on a standby.
func (m *Members) setCondition(ctx context.Context, mc *meshfedv1.MemberCluster, t meshfedv1.MemberClusterConditionType, s metav1.ConditionStatus, reason, msg string) error {
	if m.standby.Load() {
		return nil
	}
	patch := client.MergeFrom(mc.DeepCopy())
	changed := meta.SetStatusCondition(&mc.Status.Conditions, metav1.Condition{
		Type: string(t), Status: s, Reason: reason, Message: msg, ObservedGeneration: mc.Generation,
	})
	if !changed {
		return nil
	}
	if err := m.hub.Status().Patch(ctx, mc, patch); err != nil {
		return fmt.Errorf("failed to update status of membercluster %s: %w", mc.Name, err)
	}
	return nil
}

// connectWorkers is how many members connect at once: a hub that starts connects to every
// member before it can publish their changes, so they connect side by side.
const connectWorkers = 8

// SetupWithManager registers the reconciler for MemberClusters and their Secrets.
func (m *Members) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("membercluster").
		WithOptions(controller.Options{MaxConcurrentReconciles: connectWorkers}).
		For(&meshfedv1.MemberCluster{}).
		Watches(&corev1.Secret{}, secretHandler(m.hub, m.opts.Namespace)).
		WatchesRawSource(source.Channel(m.requeue, &handler.EnqueueRequestForObject{})).
		Complete(m)
}
