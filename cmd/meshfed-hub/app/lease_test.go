package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/meshfed/meshfed/e2e/framework"
)

func TestMayTake(t *testing.T) {
	seen := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	held := func(holder string, seconds int32) coordinationv1.LeaseSpec {
		return coordinationv1.LeaseSpec{HolderIdentity: ptr.To(holder), LeaseDurationSeconds: ptr.To(seconds)}
	}
	tests := []struct {
		name      string
		spec      coordinationv1.LeaseSpec
		now       time.Time
		departed  map[string]bool
		wantOK    bool
		wantUntil time.Time
	}{
		{"never held", coordinationv1.LeaseSpec{}, seen, nil, true, seen},
		{"released", held("", 1), seen, nil, true, seen},
		{"own", held("me_1", 15), seen, nil, true, seen},
		{"held, within its term", held("other_1", 15), seen.Add(14 * time.Second), nil, false, seen.Add(15 * time.Second)},
		{"held, term just over", held("other_1", 15), seen.Add(15 * time.Second), nil, true, seen.Add(15 * time.Second)},
		{"held, no duration", coordinationv1.LeaseSpec{HolderIdentity: ptr.To("other_1")}, seen, nil, true, seen},
		{"held by a departed replica", held("me_0", 15), seen, map[string]bool{"me_0": true}, true, seen},
		{"another replica departed", held("other_1", 15), seen, map[string]bool{"me_0": true}, false, seen.Add(15 * time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, until := mayTake(tt.spec, seen, tt.now, "me_1", tt.departed)
			if ok != tt.wantOK || !until.Equal(tt.wantUntil) {
				t.Errorf("mayTake = %v, %v; want %v, %v", ok, until, tt.wantOK, tt.wantUntil)
			}
		})
	}
}

func TestLeaseSpecs(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Minute)
	other := coordinationv1.LeaseSpec{
		HolderIdentity: ptr.To("other_1"), LeaseDurationSeconds: ptr.To[int32](15),
		AcquireTime: ptr.To(metav1.NewMicroTime(t0)), RenewTime: ptr.To(metav1.NewMicroTime(t0)), LeaseTransitions: ptr.To[int32](3),
	}
	taken := takenSpec(other, "me_1", 1500*time.Millisecond, t1)
	if holderOf(taken) != "me_1" || *taken.LeaseDurationSeconds != 2 || *taken.LeaseTransitions != 4 ||
		!taken.AcquireTime.Time.Equal(t1) || !taken.RenewTime.Time.Equal(t1) {
		t.Errorf("taken from another holder: %+v", taken)
	}
	again := takenSpec(taken, "me_1", 1500*time.Millisecond, t1.Add(time.Second))
	if *again.LeaseTransitions != 4 || !again.AcquireTime.Time.Equal(t1) || !again.RenewTime.Time.Equal(t1.Add(time.Second)) {
		t.Errorf("taken again by its holder: %+v, want the transition count and acquire time kept", again)
	}
	fresh := takenSpec(coordinationv1.LeaseSpec{}, "me_1", 15*time.Second, t0)
	if *fresh.LeaseTransitions != 1 || *fresh.LeaseDurationSeconds != 15 {
		t.Errorf("a new Lease: %+v", fresh)
	}
	renewed := renewedSpec(taken, t1.Add(2*time.Second))
	if !renewed.RenewTime.Time.Equal(t1.Add(2*time.Second)) || !taken.RenewTime.Time.Equal(t1) || !renewed.AcquireTime.Time.Equal(t1) {
		t.Errorf("renewed %+v from %+v: want only the renew time changed, the original untouched", renewed, taken)
	}
	released := releasedSpec(renewed, t1.Add(3*time.Second))
	if holderOf(released) != "" || *released.LeaseDurationSeconds != 1 || *released.LeaseTransitions != 4 {
		t.Errorf("released: %+v", released)
	}
	if ok, _ := mayTake(released, t1, t1, "other_1", nil); !ok {
		t.Error("a released Lease may not be taken")
	}
}

func TestLeaseSeconds(t *testing.T) {
	for d, want := range map[time.Duration]int32{
		time.Second: 1, 1500 * time.Millisecond: 2, 15 * time.Second: 15, time.Nanosecond: 1, 1 << 62: 1<<31 - 1,
	} {
		if got := leaseSeconds(d); got != want {
			t.Errorf("leaseSeconds(%v) = %d, want %d", d, got, want)
		}
	}
}

// candidate is one elector running in a test, with what its lead saw.
type candidate struct {
	leading chan string   // receives previous when lead starts
	ended   chan struct{} // closed when lead returns
	done    chan error    // receives Run's result
	cancel  context.CancelFunc
	e       *elector
}

// run starts an elector for the test Lease; lead blocks until its context ends (or returns
// leadErr at once), and counts itself in active, failing the test if another lead is active.
func run(t *testing.T, cs kubernetes.Interface, identity string, timing leaseTiming, active *atomic.Int32, leadErr error) *candidate {
	t.Helper()
	c := &candidate{leading: make(chan string, 1), ended: make(chan struct{}), done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(t.Context())
	c.cancel = cancel
	e := newElector(cs, electorConfig{Namespace: "default", Name: "test", Identity: identity, Timing: timing},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	c.e = e
	go func() {
		c.done <- e.Run(ctx, func(ctx context.Context, previous string) error {
			defer close(c.ended)
			if n := active.Add(1); n != 1 {
				t.Errorf("%s leads while %d others do", identity, n-1)
			}
			defer active.Add(-1)
			c.leading <- previous
			if leadErr != nil {
				return leadErr
			}
			<-ctx.Done()
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-c.done
	})
	return c
}

func (c *candidate) waitLeading(t *testing.T, within time.Duration) string {
	t.Helper()
	select {
	case previous := <-c.leading:
		return previous
	case err := <-c.done:
		t.Fatalf("Run returned %v before leading", err)
	case <-time.After(within):
		t.Fatalf("not leading after %v", within)
	}
	return ""
}

func (c *candidate) notLeading(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-c.leading:
		t.Fatal("leads while another replica holds the Lease")
	case <-time.After(d):
	}
}

func testLease(t *testing.T, cs kubernetes.Interface) *coordinationv1.Lease {
	t.Helper()
	l, err := cs.CoordinationV1().Leases("default").Get(t.Context(), "test", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestElector runs electors against a real API server.
func TestElector(t *testing.T) {
	c := framework.Start(t, 1)[0]
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}

	// A released Lease is taken at once: with a retry period of 60 s and a lease of 120 s, only
	// the watch explains a takeover within watchBound of the release. The bound leaves a loaded
	// API server (load 30-45 on 2 cores) seconds for the watch event and the write, and the test
	// still ends before the next retry. The successor's work starts after the predecessor's has
	// returned.
	slow := leaseTiming{Duration: 120 * time.Second, RenewDeadline: 90 * time.Second, RetryPeriod: 60 * time.Second}
	const watchBound = 40 * time.Second
	t.Run("handover on release", func(t *testing.T) {
		var active atomic.Int32
		a := run(t, cs, "a_1", slow, &active, nil)
		if prev := a.waitLeading(t, 30*time.Second); prev != "" {
			t.Errorf("a took the Lease from %q, want a free Lease", prev)
		}
		b := run(t, cs, "b_1", slow, &active, nil)
		standby := run(t, cs, "c_1", slow, &active, nil)
		b.notLeading(t, time.Second)
		standby.cancel()
		if err := <-standby.done; err != nil {
			t.Errorf("a standby stopped with %v, want nil", err)
		}
		standby.done <- nil // for the cleanup
		a.cancel()
		if err := <-a.done; err != nil {
			t.Errorf("the leader stopped with %v, want nil", err)
		}
		a.done <- nil
		if prev := b.waitLeading(t, watchBound); prev != "" {
			t.Errorf("b took the Lease from %q, want a released Lease", prev)
		}
		if l := testLease(t, cs); holderOf(l.Spec) != "b_1" || *l.Spec.LeaseTransitions != 2 {
			t.Errorf("Lease after the handover: %+v", l.Spec)
		}
	})

	// A holder that stopped renewing is replaced once its Lease ran out, counted from when the
	// candidate first saw it, and never before; the candidate learns whom it replaced.
	t.Run("takeover after expiry", func(t *testing.T) {
		setHolder(t, cs, "dead_1", 2)
		var active atomic.Int32
		started := time.Now()
		b := run(t, cs, "b_2", leaseTiming{Duration: 2 * time.Second, RenewDeadline: 1500 * time.Millisecond, RetryPeriod: 500 * time.Millisecond}, &active, nil)
		if prev := b.waitLeading(t, 30*time.Second); prev != "dead_1" {
			t.Errorf("took the Lease from %q, want dead_1", prev)
		}
		if waited := time.Since(started); waited < 2*time.Second {
			t.Errorf("took an unexpired Lease after %v", waited)
		}
	})

	// A departed holder's Lease is taken at once, also when the elector learns of the departure
	// while it waits (the hub learns it when its store has opened).
	t.Run("departed holder", func(t *testing.T) {
		setHolder(t, cs, "hub-0_old", 120)
		var active atomic.Int32
		b := run(t, cs, "hub-0_new", slow, &active, nil)
		b.notLeading(t, time.Second)
		b.e.depart("hub-0_old")
		if prev := b.waitLeading(t, watchBound); prev != "hub-0_old" {
			t.Errorf("took the Lease from %q, want hub-0_old", prev)
		}
	})

	// A leader that finds its Lease taken stops its work and reports it; it does not release
	// the Lease it no longer holds.
	t.Run("lease taken", func(t *testing.T) {
		var active atomic.Int32
		// The loss shows at the next renewal (every 200 ms); the renew deadline is long only so
		// that a loaded API server cannot end the leadership first, with another error.
		b := run(t, cs, "b_3", leaseTiming{Duration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 200 * time.Millisecond}, &active, nil)
		b.waitLeading(t, 30*time.Second)
		setHolder(t, cs, "thief_1", 60)
		select {
		case err := <-b.done:
			if !errors.Is(err, errLeaseTaken) {
				t.Errorf("Run = %v, want errLeaseTaken", err)
			}
			b.done <- nil
		case <-time.After(20 * time.Second):
			t.Fatal("the leader did not notice that its Lease was taken")
		}
		select {
		case <-b.ended:
		default:
			t.Error("Run returned before the leader's work stopped")
		}
		if h := holderOf(testLease(t, cs).Spec); h != "thief_1" {
			t.Errorf("holder after the loss = %q, want thief_1", h)
		}
	})

	// A failing leader's work ends the leadership: Run reports the failure and releases.
	t.Run("lead fails", func(t *testing.T) {
		setHolder(t, cs, "", 1)
		var active atomic.Int32
		boom := errors.New("boom")
		b := run(t, cs, "b_4", leaseTiming{Duration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second}, &active, boom)
		b.waitLeading(t, 30*time.Second)
		if err := <-b.done; !errors.Is(err, boom) {
			t.Errorf("Run = %v, want boom", err)
		}
		b.done <- nil
		if h := holderOf(testLease(t, cs).Spec); h != "" {
			t.Errorf("holder after the failure = %q, want the Lease released", h)
		}
	})
}

// setHolder writes the test Lease as held by holder for seconds, renewed now.
func setHolder(t *testing.T, cs kubernetes.Interface, holder string, seconds int32) {
	t.Helper()
	leases := cs.CoordinationV1().Leases("default")
	l, err := leases.Get(t.Context(), "test", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l.Spec = takenSpec(l.Spec, holder, time.Duration(seconds)*time.Second, time.Now())
	if _, err := leases.Update(t.Context(), l, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// FuzzMayTake checks mayTake's rule on any Lease a holder could have written: a replica never
// takes a Lease another live holder renewed less than its stated duration ago, and when it may
// not take it, it is told a later time to try again.
func FuzzMayTake(f *testing.F) {
	f.Add("other_1", int32(15), int64(14_000), false)
	f.Add("", int32(1), int64(0), false)
	f.Add("hub-0_old", int32(60), int64(0), true)
	f.Add("me_1", int32(-5), int64(-1), false)
	f.Fuzz(func(t *testing.T, holder string, seconds int32, elapsedMillis int64, departed bool) {
		seen := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		now := seen.Add(time.Duration(elapsedMillis) * time.Millisecond)
		spec := coordinationv1.LeaseSpec{HolderIdentity: ptr.To(holder), LeaseDurationSeconds: ptr.To(seconds)}
		gone := map[string]bool{}
		if departed {
			gone[holder] = true
		}
		ok, until := mayTake(spec, seen, now, "me_1", gone)
		live := holder != "" && holder != "me_1" && !departed
		term := seen.Add(time.Duration(seconds) * time.Second)
		if ok && live && now.Before(term) {
			t.Fatalf("took %q's Lease %v after seeing it, within its %d s", holder, now.Sub(seen), seconds)
		}
		if !ok && !until.After(now) {
			t.Fatalf("refused, and told to try again at %v, not after now %v", until, now)
		}
		if !live && !ok {
			t.Fatalf("refused a Lease held by %q (departed %v)", holder, departed)
		}
	})
}
