package coarse

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCoarseTimerFiresAfterItsTime(t *testing.T) {
	ct := NewTimers(time.Millisecond)
	const d = 30 * time.Millisecond
	start := time.Now()
	fired := make(chan time.Duration, 1)
	ct.AfterFunc(d, func() { fired <- time.Since(start) })
	select {
	case got := <-fired:
		if got < d {
			t.Fatalf("fired after %s, before its %s", got, d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("did not fire")
	}
}

func TestCoarseTimerStop(t *testing.T) {
	ct := NewTimers(time.Millisecond)
	var ran atomic.Int32
	release := holdTicker(t, ct)
	stopped := ct.AfterFunc(20*time.Millisecond, func() { ran.Add(1) })
	if !stopped.Stop() {
		t.Fatal("Stop of a pending timer reported false")
	}
	if stopped.Stop() {
		t.Fatal("second Stop reported true")
	}
	release()
	done := make(chan struct{})
	fired := ct.AfterFunc(time.Millisecond, func() { close(done) })
	<-done
	if fired.Stop() {
		t.Fatal("Stop of a fired timer reported true")
	}
	time.Sleep(40 * time.Millisecond) // past the stopped timer's time
	if ran.Load() != 0 {
		t.Fatal("a stopped timer ran")
	}
}

// TestCoarseTimersManyStopped arms many timers, stops every other one out of order, and
// checks that exactly the others run: removal keeps every index right. The ticking goroutine
// is held meanwhile: arming and stopping 500 timers can take longer than their 5 ms on a
// loaded machine, and a timer that fired before its Stop would fail the test.
func TestCoarseTimersManyStopped(t *testing.T) {
	ct := NewTimers(time.Millisecond)
	const n = 500
	ran := make([]atomic.Int32, n)
	timers := make([]*Timer, n)
	var left atomic.Int32
	left.Store(n / 2)
	done := make(chan struct{})
	release := holdTicker(t, ct)
	for i := range n {
		timers[i] = ct.AfterFunc(time.Duration(i%7)*time.Millisecond+5*time.Millisecond, func() {
			ran[i].Add(1)
			if left.Add(-1) == 0 {
				close(done)
			}
		})
	}
	for i := n - 1; i >= 0; i -= 2 {
		if !timers[i].Stop() {
			t.Fatalf("timer %d fired before it was stopped", i)
		}
	}
	release()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("%d timers did not fire", left.Load())
	}
	time.Sleep(20 * time.Millisecond)
	for i := range n {
		if want := int32((i + 1) % 2); ran[i].Load() != want {
			t.Errorf("timer %d ran %d times, want %d", i, ran[i].Load(), want)
		}
	}
}

// TestCoarseTimersGoroutineEnds: the ticking goroutine exits once nothing has been pending
// for idleTicks ticks, and the next timer starts it again.
func TestCoarseTimersGoroutineEnds(t *testing.T) {
	ct := NewTimers(time.Millisecond)
	for round := range 2 {
		done := make(chan struct{})
		ct.AfterFunc(time.Millisecond, func() { close(done) })
		<-done
		deadline := time.Now().Add(5 * time.Second)
		for {
			ct.mu.Lock()
			ticking := ct.ticking
			ct.mu.Unlock()
			if !ticking {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: still ticking 5s after the last timer", round)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// holdTicker keeps ct's ticking goroutine busy in a timer's function until the returned
// release is called (or the test ends): no other timer can fire meanwhile, so a test can arm
// and stop timers whose time is near without racing the goroutine on a loaded machine.
func holdTicker(t *testing.T, ct *Timers) (release func()) {
	t.Helper()
	entered, hold := make(chan struct{}), make(chan struct{})
	ct.AfterFunc(0, func() {
		close(entered)
		<-hold
	})
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the holding timer did not fire")
	}
	var once sync.Once
	release = func() { once.Do(func() { close(hold) }) }
	t.Cleanup(release)
	return release
}

// fireCount is a Firer counting its calls.
type fireCount struct{ n atomic.Int32 }

func (f *fireCount) Fire() { f.n.Add(1) }

// TestCoarseTimerStart: a Timer held by its caller fires its Firer once, and stops as one
// from AfterFunc does; one never armed does not stop.
func TestCoarseTimerStart(t *testing.T) {
	ct := NewTimers(time.Millisecond)
	var never Timer
	if never.Stop() {
		t.Fatal("Stop of a timer never armed reported true")
	}
	var f, g fireCount
	var fired, stopped Timer
	ct.Start(&fired, 5*time.Millisecond, &f)
	ct.Start(&stopped, 5*time.Millisecond, &g)
	if !stopped.Stop() {
		t.Fatal("Stop of a pending timer reported false")
	}
	deadline := time.Now().Add(5 * time.Second)
	for f.n.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	if f.n.Load() != 1 || g.n.Load() != 0 {
		t.Fatalf("fired %d times, stopped one %d", f.n.Load(), g.n.Load())
	}
	if fired.Stop() {
		t.Fatal("Stop of a fired timer reported true")
	}
}
