package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/federation/controller"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/federation/writeback"
)

// leader is the work of the replica that holds the Lease: the federation loop, and the
// MemberCluster status that the member registry writes only while its replica leads. The
// registry itself runs on every replica (a warm standby), so a new leader publishes the
// members' changes without connecting to them first.
type leader struct {
	mgr     ctrl.Manager
	store   *hubStore
	members *controller.Members
	// fed is the federation loop once built; the registry's change callback wakes it.
	fed  atomic.Pointer[controller.Federation]
	opts Options
	log  *slog.Logger
}

// membersChanged wakes the federation loop, if this replica runs it.
func (l *leader) membersChanged() {
	if f := l.fed.Load(); f != nil {
		f.Trigger()
	}
}

// lead runs the leader's work until ctx ends or it fails: the federation loop starts when the
// store is open (it may still be starting), after the store session of previous, the replica
// the Lease was taken from, has been evicted. When it returns, the registry is a standby's
// again, so the Lease can be released.
func (l *leader) lead(ctx context.Context, previous string) error {
	defer l.members.Standby()
	if err := l.members.Lead(ctx); err != nil {
		return err
	}
	st, w, err := l.store.wait(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	evictPrevious(ctx, w, previous, l.log)
	ports, _ := l.opts.PortRange()
	f := controller.NewFederation(l.mgr.GetClient(), st, w, controller.FederationOptions{
		Ports: ports, Debounce: 20 * time.Millisecond, Resync: l.opts.Resync,
		Slices: writeback.SliceMode(l.opts.MCSEndpointSlices), TrustDomain: l.opts.TrustDomain,
	}, l.log)
	f.SetMembers(l.members)
	if err := triggerOn(ctx, l.mgr, f, &meshfedv1.Segment{}, &meshfedv1.MemberCluster{}); err != nil {
		return err
	}
	l.fed.Store(f)
	if l.store.ca == nil {
		return f.Start(ctx)
	}
	is := &issuer{
		ca: l.store.ca, secrets: l.memberSecrets, trustDomain: l.opts.TrustDomain,
		validity: l.opts.WaypointCertValidity, renewBefore: l.opts.waypointRenewBefore(), log: l.log.With("component", "issuer"),
		refused: map[string]bool{},
	}
	issuerCtx, stopIssuer := context.WithCancel(ctx)
	issued := make(chan struct{})
	go func() {
		defer close(issued)
		is.run(issuerCtx, st)
	}()
	defer func() { stopIssuer(); <-issued }()
	return f.Start(ctx)
}

// memberSecrets gives the issuer the Secrets of a connected, reachable member.
func (l *leader) memberSecrets(cluster string) (client.Reader, client.Writer, bool) {
	m, ok := l.members.Get(cluster, time.Now())
	if !ok || !m.Federated() || m.Stale {
		return nil, nil, false
	}
	c := m.Conn.Cluster()
	return c.GetAPIReader(), c.GetClient(), true
}

// evictPrevious revokes the store session of the replica the Lease was taken from, if any: its
// Lease ran out, so it has stopped leading, and the campaign that follows need not wait for its
// session to expire. A failure only costs time: the campaign then waits for the session's TTL.
func evictPrevious(ctx context.Context, w *store.Writer, previous string, log *slog.Logger) {
	if previous == "" {
		return
	}
	if _, err := w.Evict(ctx, func(id string) bool { return id == previous }); err != nil && ctx.Err() == nil {
		log.Warn("failed to evict the previous store writer; campaigning behind it", "previous", previous, "error", err)
	}
}

// triggerOn wakes the federation loop on every change of the given hub kinds.
func triggerOn(ctx context.Context, mgr ctrl.Manager, fed *controller.Federation, objs ...client.Object) error {
	for _, obj := range objs {
		inf, err := mgr.GetCache().GetInformer(ctx, obj)
		if err != nil {
			return fmt.Errorf("failed to watch %T: %w", obj, err)
		}
		if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    func(any) { fed.Trigger() },
			UpdateFunc: func(any, any) { fed.Trigger() },
			DeleteFunc: func(any) { fed.Trigger() },
		}); err != nil {
			return fmt.Errorf("failed to watch %T: %w", obj, err)
		}
	}
	return nil
}
