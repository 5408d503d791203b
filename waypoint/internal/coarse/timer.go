package coarse

import (
	"sync"
	"time"
)

// Tick is the resolution of the per-request timers (Timers): a timer fires up to
// one tick after its time.
const Tick = 10 * time.Millisecond

// idleTicks is how many ticks without a pending timer the ticking goroutine waits
// before it exits; the next timer starts it again.
const idleTicks = 100

// Timers runs functions after a delay, up to one tick late, from a single goroutine
// that ticks only while timers are pending (and a little after).
//
// It exists for the timers every request arms and almost always stops: the per-try timeout
// and the client watch. A runtime timer that becomes the earliest of its P wakes the network
// poller or another thread to re-arm its sleep (wakeNetPoller); at a steady rate with idle
// gaps that was a thread wake-up per request (~4 % of the waypoint's CPU in profiles). Arming
// a coarse timer takes a lock and an append.
type Timers struct {
	tick time.Duration

	mu      sync.Mutex
	pending []*Timer // unordered; each knows its index
	ticking bool
}

// Timer is one pending function of Timers.
type Timer struct {
	ct  *Timers
	at  time.Time
	fn  func()
	f   Firer // when fn is nil
	idx int   // in ct.pending, -1 once fired or stopped
}

// Firer is what a Timer armed by Start runs.
type Firer interface {
	// Fire runs on the timers' goroutine; it must not block.
	Fire()
}

func NewTimers(tick time.Duration) *Timers { return &Timers{tick: tick} }

// AfterFunc runs fn on the timers' goroutine once d has passed, within one tick after. fn
// must not block: the timers due in one tick run one after the other.
func (ct *Timers) AfterFunc(d time.Duration, fn func()) *Timer {
	t := &Timer{ct: ct, at: time.Now().Add(d), fn: fn}
	ct.add(t)
	return t
}

// Start arms t, a Timer the caller holds, to call f.Fire once d has passed, within one tick
// after: AfterFunc without its allocations, for a timer kept in a struct of the caller's
// (f is usually that struct). t must be new, or have fired or been stopped.
func (ct *Timers) Start(t *Timer, d time.Duration, f Firer) {
	t.ct, t.at, t.fn, t.f = ct, time.Now().Add(d), nil, f
	ct.add(t)
}

// add makes t pending, starting the ticking goroutine if it is not running.
func (ct *Timers) add(t *Timer) {
	ct.mu.Lock()
	t.idx = len(ct.pending)
	ct.pending = append(ct.pending, t)
	start := !ct.ticking
	ct.ticking = true
	ct.mu.Unlock()
	if start {
		go ct.run()
	}
}

// Stop keeps t from firing; it reports false if t has already fired (its function may still
// be running) or was stopped before, as time.Timer.Stop. A Timer never armed reports false.
func (t *Timer) Stop() bool {
	ct := t.ct
	if ct == nil {
		return false
	}
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if t.idx < 0 {
		return false
	}
	ct.remove(t)
	return true
}

// remove takes t out of pending; ct.mu is held.
func (ct *Timers) remove(t *Timer) {
	last := len(ct.pending) - 1
	moved := ct.pending[last]
	ct.pending[t.idx], moved.idx = moved, t.idx
	ct.pending[last] = nil
	ct.pending = ct.pending[:last]
	t.idx = -1
}

// run ticks until no timer has been pending for idleTicks ticks.
func (ct *Timers) run() {
	ticker := time.NewTicker(ct.tick)
	defer ticker.Stop()
	var due []*Timer
	idle := 0
	for now := range ticker.C {
		ct.mu.Lock()
		for i := 0; i < len(ct.pending); {
			if t := ct.pending[i]; !t.at.After(now) {
				ct.remove(t) // moves the last one to i
				due = append(due, t)
				continue
			}
			i++
		}
		if len(ct.pending) == 0 && len(due) == 0 {
			if idle++; idle >= idleTicks {
				ct.ticking = false
				ct.mu.Unlock()
				return
			}
		} else {
			idle = 0
		}
		ct.mu.Unlock()
		for i, t := range due {
			if t.fn != nil {
				t.fn()
			} else {
				t.f.Fire()
			}
			due[i] = nil
		}
		due = due[:0]
	}
}
