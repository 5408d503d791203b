package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/federation/controller"
	"github.com/meshfed/meshfed/federation/store"
)

// leader is the work of the replica that holds the Lease: the member connections and the
// federation loop. They are built when the replica starts leading, which happens at most once
// per process (a process whose leadership ends exits).
type leader struct {
	mgr   ctrl.Manager
	store *hubStore
	opts  Options
	log   *slog.Logger
}

// lead runs the leader's work until ctx ends or it fails. The members connect at once; the
// federation loop starts when the store is open (it may still be starting), first evicting the
// store session of previous, the replica the Lease was taken from.
func (l *leader) lead(ctx context.Context, previous string) error {
	var fed atomic.Pointer[controller.Federation]
	members := controller.NewMembers(l.mgr.GetClient(), controller.MembersOptions{
		Namespace: l.opts.Namespace, StaleGrace: l.opts.StaleGrace, ProbeInterval: l.opts.ProbeInterval, SyncTimeout: time.Minute,
	}, l.log, func() {
		if f := fed.Load(); f != nil {
			f.Trigger()
		}
	})
	defer members.Close()
	work := &leaderWork{Manager: l.mgr}
	if err := members.SetupWithManager(work); err != nil {
		return fmt.Errorf("failed to set up membercluster controller: %w", err)
	}
	if err := work.Add(manager.RunnableFunc(func(ctx context.Context) error {
		f, err := l.federation(ctx, members, previous)
		if err != nil || f == nil {
			return err
		}
		fed.Store(f)
		return f.Start(ctx)
	})); err != nil {
		return fmt.Errorf("failed to add federation loop: %w", err)
	}
	return work.run(ctx)
}

// federation waits for the store, evicts previous's session and builds the federation loop,
// woken by every change of the hub objects it follows. It returns nil when ctx ended first.
func (l *leader) federation(ctx context.Context, members *controller.Members, previous string) (*controller.Federation, error) {
	st, w, err := l.store.wait(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil
		}
		return nil, err
	}
	evictPrevious(ctx, w, previous, l.log)
	ports, _ := l.opts.PortRange()
	f := controller.NewFederation(l.mgr.GetClient(), st, w, controller.FederationOptions{
		Ports: ports, Debounce: 20 * time.Millisecond, Resync: l.opts.Resync,
	}, l.log)
	f.SetMembers(members)
	if err := triggerOn(ctx, l.mgr, f, &meshfedv1.Segment{}, &meshfedv1.MemberCluster{}); err != nil {
		return nil, err
	}
	return f, nil
}

// leaderWork is the manager as the leader's components see it: what they add to it (the
// controllers the builder makes add themselves) runs only while this replica holds the Lease,
// started by run; everything else is the manager's.
type leaderWork struct {
	manager.Manager
	runnables []manager.Runnable
}

// Add keeps r for run instead of starting it with the manager.
func (l *leaderWork) Add(r manager.Runnable) error {
	l.runnables = append(l.runnables, r)
	return nil
}

// run starts every runnable and returns when all have returned: when ctx ends, or after the
// first one failed (the others are then stopped).
func (l *leaderWork) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(l.runnables))
	for _, r := range l.runnables {
		go func() {
			err := r.Start(ctx)
			if err != nil {
				cancel()
			}
			errs <- err
		}()
	}
	var all []error
	for range l.runnables {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
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
