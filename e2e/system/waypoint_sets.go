package system

import (
	"net/http"
	"sync"
	"time"
)

// Sets of waypoints handled at once, as a rollout or a node drain handles every pod: what a
// measurement of many waypoints needs, where one after the other (Waypoint.Start, Process.Stop)
// would take a ShutdownDelay or a start-up per waypoint.

// StopWaypoints ends the processes of ws at once, each as Process.Stop does (SIGTERM, SIGKILL
// after 5 s), and waits for all of them.
func StopWaypoints(ws ...*Waypoint) {
	var wg sync.WaitGroup
	for _, w := range ws {
		if w.Proc != nil {
			wg.Go(w.Proc.Stop)
		}
	}
	wg.Wait()
}

// RestartWaypoints stops the processes of ws (StopWaypoints), starts all of them again at once
// and waits until every one answers /readyz with 200, polling each every 100 ms. It returns how
// long it took from the first start until the last one was ready. A process that exits, or a
// waypoint not ready within limit, fails the test. The test's cleanup stops them at once.
func (f *Federation) RestartWaypoints(limit time.Duration, ws ...*Waypoint) time.Duration {
	f.t.Helper()
	StopWaypoints(ws...)
	start := time.Now()
	for _, w := range ws {
		w.Proc = StartProcess(f.t, "waypoint "+w.Member.Name+"/"+w.NS, w.log, w.Pod.Command(bins.Waypoint, w.args...))
	}
	// Cleanups run last first: this one stops them all at once before each process's own
	// cleanup would stop it after the other, a ShutdownDelay each.
	f.t.Cleanup(func() { StopWaypoints(ws...) })
	pending := append([]*Waypoint(nil), ws...)
	var last time.Time
	for deadline := start.Add(limit); ; time.Sleep(100 * time.Millisecond) {
		waiting := pending[:0]
		for _, w := range pending {
			if w.Proc.Exited() {
				f.t.Fatalf("waypoint %s/%s exited", w.Member.Name, w.NS)
			}
			if code, _ := w.admin("/readyz", nil); code == http.StatusOK {
				last = time.Now()
				continue
			}
			waiting = append(waiting, w)
		}
		pending = waiting
		if len(pending) == 0 {
			return last.Sub(start)
		}
		if time.Now().After(deadline) {
			code, err := pending[0].admin("/readyz", nil)
			f.t.Fatalf("timed out after %v waiting for %d of %d waypoints to be ready, %s/%s among them: %d %v",
				limit, len(pending), len(ws), pending[0].Member.Name, pending[0].NS, code, err)
		}
	}
}
