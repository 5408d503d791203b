package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

// leaseTiming are the Lease election's durations, with client-go's meanings: a candidate takes
// over a Lease it has seen unchanged for Duration; the holder renews it every RetryPeriod and
// stops leading when it could not renew it for RenewDeadline (< Duration, so it stops before
// anyone may take over).
type leaseTiming struct {
	Duration, RenewDeadline, RetryPeriod time.Duration
}

// electorConfig configures an elector.
type electorConfig struct {
	// Namespace and Name locate the Lease.
	Namespace, Name string
	// Identity is this replica's holder identity.
	Identity string
	Timing   leaseTiming
}

// errLeaseTaken reports that another replica holds the Lease this one was renewing.
var errLeaseTaken = errors.New("lease taken by another replica")

// elector is the hub's Lease election. It speaks the protocol of client-go's leader election
// (the same Lease fields, takeover after a Lease has been seen unchanged for its duration,
// release by clearing the holder), so tools that read the Lease read it as usual, and adds two
// things the hub's handover needs:
//
//   - It watches the Lease, so a candidate tries again the moment the holder releases it,
//     instead of at its next poll (client-go polls every RetryPeriod, up to 2.2 times that with
//     its jitter), and tries exactly when an unrenewed Lease runs out.
//   - It runs the leader's work and releases the Lease only after that work has returned, and a
//     deliberate release is a normal end, not an error (controller-runtime's leader election
//     reports "leader election lost" for it).
type elector struct {
	client   kubernetes.Interface
	leases   coordinationv1client.LeaseInterface
	ns, name string
	identity string
	timing   leaseTiming
	log      *slog.Logger
	now      func() time.Time
	// wake is poked on every event of the Lease.
	wake chan struct{}
	// observedVersion is the Lease's resource version when this replica last saw it change, at
	// observedAt: a holder's term is counted from there, on this replica's own clock.
	observedVersion string
	observedAt      time.Time

	// departed are holders known to have exited (see depart); guarded by mu.
	mu       sync.Mutex
	departed map[string]bool
}

// newElector returns an elector; it does no I/O.
func newElector(cs kubernetes.Interface, cfg electorConfig, log *slog.Logger) *elector {
	return &elector{
		client: cs, leases: cs.CoordinationV1().Leases(cfg.Namespace), ns: cfg.Namespace, name: cfg.Name,
		identity: cfg.Identity, timing: cfg.Timing, departed: map[string]bool{},
		log: log.With("lease", cfg.Namespace+"/"+cfg.Name, "identity", cfg.Identity), now: time.Now,
		wake: make(chan struct{}, 1),
	}
}

// depart names holders known to have exited, whose Lease is taken at once instead of after it
// ran out (the previous incarnations of a hub with an embedded store, see Run), and wakes the
// elector. It may be called while Run waits.
func (e *elector) depart(ids ...string) {
	e.mu.Lock()
	for _, id := range ids {
		e.departed[id] = true
	}
	e.mu.Unlock()
	e.poke()
}

// poke wakes the elector if it waits for the Lease.
func (e *elector) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run waits for the Lease, runs lead while holding it, and releases it once lead has returned.
// lead's context ends when ctx does or the Lease is lost; previous is the replica the Lease was
// taken from ("" when it was free or released). Run returns nil when ctx ended, and an error
// when the Lease was lost or lead failed or returned on its own.
func (e *elector) Run(ctx context.Context, lead func(ctx context.Context, previous string) error) error {
	stop, err := e.watch(ctx)
	if err != nil {
		return err
	}
	defer stop()
	held, previous := e.acquire(ctx)
	if held == nil {
		return nil // ctx ended first
	}
	e.log.Info("acquired the hub Lease", "previous", previous)
	leadCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		err := lead(leadCtx, previous)
		cancel()
		done <- err
	}()
	held, lost := e.hold(leadCtx, held)
	cancel()
	leadErr := <-done
	e.release(context.WithoutCancel(ctx), held)
	if leadErr == nil && lost == nil && ctx.Err() == nil {
		leadErr = errors.New("the leader's work ended on its own")
	}
	return errors.Join(lost, leadErr)
}

// watch pokes wake on every event of the Lease until stop is called.
func (e *elector) watch(ctx context.Context) (stop func(), err error) {
	f := informers.NewSharedInformerFactoryWithOptions(e.client, 0, informers.WithNamespace(e.ns),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", e.name).String()
		}))
	_, err = f.Coordination().V1().Leases().Informer().AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { e.poke() },
		UpdateFunc: func(any, any) { e.poke() },
		DeleteFunc: func(any) { e.poke() },
	})
	if err != nil {
		return nil, fmt.Errorf("failed to watch lease %s/%s: %w", e.ns, e.name, err)
	}
	wctx, cancel := context.WithCancel(ctx)
	f.Start(wctx.Done())
	return func() { cancel(); f.Shutdown() }, nil
}

// acquire tries to take the Lease until it holds it (then it returns the Lease and the holder
// it took it from) or ctx ends (nil). Between tries it waits for a Lease event, the end of the
// holder's term, or RetryPeriod with a little jitter, whichever comes first.
func (e *elector) acquire(ctx context.Context) (*coordinationv1.Lease, string) {
	waiting := ""
	for {
		held, from, until, err := e.tryAcquire(ctx)
		switch {
		case held != nil:
			return held, holderOf(from) // even if ctx has just ended: Run then releases it
		case ctx.Err() != nil:
			return nil, ""
		case apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err):
			continue // another candidate moved first: read the Lease again
		case err != nil:
			e.log.Warn("failed to read or take the hub Lease; retrying", "error", err)
			until = e.now().Add(e.timing.RetryPeriod)
		case holderOf(from) != waiting:
			waiting = holderOf(from)
			e.log.Info("waiting for the hub Lease", "holder", waiting, "expiresUnlessRenewed", until.Format(time.RFC3339Nano))
		}
		if !e.sleep(ctx, min(until.Sub(e.now()), jittered(e.timing.RetryPeriod))) {
			return nil, ""
		}
	}
}

// tryAcquire reads the Lease and takes it if it may: held is then the Lease as written. from
// is the spec it found; until is when the holder's term runs out unless it renews.
func (e *elector) tryAcquire(ctx context.Context) (held *coordinationv1.Lease, from coordinationv1.LeaseSpec, until time.Time, err error) {
	cur, err := e.leases.Get(ctx, e.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		fresh := &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: e.name, Namespace: e.ns},
			Spec:       takenSpec(coordinationv1.LeaseSpec{}, e.identity, e.timing.Duration, e.now()),
		}
		if held, err = e.leases.Create(ctx, fresh, metav1.CreateOptions{}); err != nil {
			return nil, from, until, err
		}
		return held, from, until, nil
	}
	if err != nil {
		return nil, from, until, err
	}
	now := e.now()
	if cur.ResourceVersion != e.observedVersion {
		e.observedVersion, e.observedAt = cur.ResourceVersion, now
	}
	e.mu.Lock()
	ok, until := mayTake(cur.Spec, e.observedAt, now, e.identity, e.departed)
	e.mu.Unlock()
	if !ok {
		return nil, cur.Spec, until, nil
	}
	next := cur.DeepCopy()
	next.Spec = takenSpec(cur.Spec, e.identity, e.timing.Duration, now)
	if held, err = e.leases.Update(ctx, next, metav1.UpdateOptions{}); err != nil {
		return nil, cur.Spec, until, err
	}
	return held, cur.Spec, until, nil
}

// hold renews the Lease every RetryPeriod until ctx ends (nil) or the Lease is lost: found taken,
// or not renewed for RenewDeadline (an error). It returns the last Lease it wrote.
func (e *elector) hold(ctx context.Context, held *coordinationv1.Lease) (*coordinationv1.Lease, error) {
	renewed := e.now()
	tick := time.NewTicker(e.timing.RetryPeriod)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return held, nil
		case <-tick.C:
		}
		started, deadline := e.now(), renewed.Add(e.timing.RenewDeadline)
		rctx, cancel := context.WithDeadline(ctx, deadline)
		next, err := e.renew(rctx, held)
		cancel()
		switch {
		case err == nil:
			held, renewed = next, started
		case ctx.Err() != nil:
			return held, nil
		case errors.Is(err, errLeaseTaken):
			return held, fmt.Errorf("failed to renew lease %s/%s: %w", e.ns, e.name, err)
		case !e.now().Before(deadline):
			return held, fmt.Errorf("failed to renew lease %s/%s within %s: %w", e.ns, e.name, e.timing.RenewDeadline, err)
		default:
			e.log.Warn("failed to renew the hub Lease; retrying", "error", err, "deadline", deadline.Format(time.RFC3339Nano))
		}
	}
}

// renew writes a new renew time into the Lease; errLeaseTaken if another replica holds it.
func (e *elector) renew(ctx context.Context, held *coordinationv1.Lease) (*coordinationv1.Lease, error) {
	next := held.DeepCopy()
	next.Spec = renewedSpec(held.Spec, e.now())
	updated, err := e.leases.Update(ctx, next, metav1.UpdateOptions{})
	if !apierrors.IsConflict(err) {
		return updated, err
	}
	// Something else changed the Lease: still ours if it still names this replica.
	cur, err := e.leases.Get(ctx, e.name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	if holderOf(cur.Spec) != e.identity {
		return nil, fmt.Errorf("held by %q: %w", holderOf(cur.Spec), errLeaseTaken)
	}
	next = cur.DeepCopy()
	next.Spec = renewedSpec(cur.Spec, e.now())
	return e.leases.Update(ctx, next, metav1.UpdateOptions{})
}

// release clears the holder of the Lease if it still names this replica, so that a candidate
// takes it at once; it is called only after the leader's work has stopped. A failure leaves
// the Lease to run out.
func (e *elector) release(ctx context.Context, held *coordinationv1.Lease) {
	ctx, cancel := context.WithTimeout(ctx, e.timing.RenewDeadline)
	defer cancel()
	for range 2 {
		next := held.DeepCopy()
		next.Spec = releasedSpec(held.Spec, e.now())
		_, err := e.leases.Update(ctx, next, metav1.UpdateOptions{})
		if err == nil {
			e.log.Info("released the hub Lease")
			return
		}
		if !apierrors.IsConflict(err) {
			e.log.Warn("failed to release the hub Lease; a successor waits for it to run out", "error", err)
			return
		}
		cur, err := e.leases.Get(ctx, e.name, metav1.GetOptions{})
		if err != nil || holderOf(cur.Spec) != e.identity {
			return // taken by another replica meanwhile: nothing of ours to release
		}
		held = cur
	}
}

// sleep waits for d, a Lease event or the end of ctx; false when ctx ended.
func (e *elector) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-e.wake:
	case <-t.C:
	}
	return true
}

// jittered is d plus up to a fifth of it at random, so candidates polling a Lease whose watch
// failed do not do so in step.
func jittered(d time.Duration) time.Duration {
	return d + rand.N(d/5+1)
}

// holderOf is the identity holding the Lease, "" when it is free.
func holderOf(s coordinationv1.LeaseSpec) string {
	return ptr.Deref(s.HolderIdentity, "")
}

// mayTake reports whether identity may take a Lease whose spec is s, which it saw change last
// at observedAt: when it is free, already its own or held by a departed replica, or when the
// holder has not renewed it for the duration the Lease states. until is when the holder's term
// ends unless it renews. Counting from this replica's own observation, not from the renew time
// written by the holder, keeps the rule independent of the two replicas' clocks.
func mayTake(s coordinationv1.LeaseSpec, observedAt, now time.Time, identity string, departed map[string]bool) (ok bool, until time.Time) {
	if h := holderOf(s); h == "" || h == identity || departed[h] {
		return true, now
	}
	until = observedAt.Add(time.Duration(ptr.Deref(s.LeaseDurationSeconds, 0)) * time.Second)
	return !now.Before(until), until
}

// takenSpec is the Lease spec after identity took it, at now, from the holder of s.
func takenSpec(s coordinationv1.LeaseSpec, identity string, d time.Duration, now time.Time) coordinationv1.LeaseSpec {
	t := metav1.NewMicroTime(now)
	transitions := ptr.Deref(s.LeaseTransitions, 0)
	acquired := &t
	if holderOf(s) == identity && s.AcquireTime != nil {
		acquired = s.AcquireTime
	} else {
		transitions++
	}
	return coordinationv1.LeaseSpec{
		HolderIdentity:       ptr.To(identity),
		LeaseDurationSeconds: ptr.To(leaseSeconds(d)),
		AcquireTime:          acquired,
		RenewTime:            &t,
		LeaseTransitions:     ptr.To(transitions),
	}
}

// renewedSpec is s renewed at now.
func renewedSpec(s coordinationv1.LeaseSpec, now time.Time) coordinationv1.LeaseSpec {
	s.RenewTime = ptr.To(metav1.NewMicroTime(now))
	return s
}

// releasedSpec is s released at now, as client-go releases a Lease: no holder, a one-second
// duration, the transition count kept.
func releasedSpec(s coordinationv1.LeaseSpec, now time.Time) coordinationv1.LeaseSpec {
	t := metav1.NewMicroTime(now)
	return coordinationv1.LeaseSpec{
		HolderIdentity:       ptr.To(""),
		LeaseDurationSeconds: ptr.To(int32(1)),
		AcquireTime:          &t,
		RenewTime:            &t,
		LeaseTransitions:     s.LeaseTransitions,
	}
}

// leaseSeconds is d in whole seconds, rounded up: the Lease states its duration in seconds,
// and rounding down would let a candidate take over before this replica stops renewing.
func leaseSeconds(d time.Duration) int32 {
	return int32(min(math.Ceil(d.Seconds()), math.MaxInt32))
}
