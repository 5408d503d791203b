package peersbench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/benchproc"
	"github.com/meshfed/meshfed/cmd/meshfed-bench/loadgen"
)

// Result is one benchmark run: every subject's measurement in every round.
type Result struct {
	Flags Flags
	// Rounds[r][i] is subject i of subjects in round r.
	Rounds   [][]Measurement
	subjects []subject
	// LoadBefore and LoadAfter are the machine's 1-minute load average around the run.
	LoadBefore, LoadAfter string
}

// Measurement is one subject in one round.
type Measurement struct {
	loadgen.Latencies
	// MaxRate is answered requests per second of the closed-loop phase; MaxErrors its failures.
	MaxRate   float64
	MaxErrors int64
	// CPU is the process's (and its children's) user+system seconds over Window, the measured
	// part of the fixed-rate phase; MaxCPU over MaxWindow, the closed-loop phase. Zero for
	// direct, which has no process.
	CPU, MaxCPU       float64
	Window, MaxWindow time.Duration
	// User and System are CPU's two parts: the seconds in the process's own code and in the
	// kernel on its behalf, over Window.
	User, System float64
	// HWM is the peak RSS since the process started (children summed), in bytes.
	HWM uint64
	// Anon is the anonymous RSS (children summed) at the end of the closed-loop phase, in bytes.
	Anon uint64
}

// Run starts everything, measures every subject once per round in alternating order and
// stops everything.
func Run(ctx context.Context, f Flags, log *slog.Logger) (Result, error) {
	subs := subjects(f.Workers, f.BaselineBinary != "", f.CrossNetwork)
	res := Result{Flags: f, LoadBefore: loadAverage(), subjects: subs}
	e, err := newEnv(ctx, f, subs, log)
	if err != nil {
		return res, err
	}
	defer e.close()
	for r := range f.Rounds {
		round := make([]Measurement, len(subs))
		for _, i := range roundOrder(len(subs), r) {
			log.Info("measuring", "round", r+1, "proxy", subs[i].name())
			m, err := e.measure(ctx, subs[i], f)
			if err != nil {
				return res, fmt.Errorf("failed to measure %s in round %d: %w", subs[i].name(), r+1, err)
			}
			round[i] = m
			time.Sleep(loadgen.Settle)
		}
		res.Rounds = append(res.Rounds, round)
	}
	res.LoadAfter = loadAverage()
	return res, nil
}

// measure runs the fixed-rate phase, then the closed-loop phase, through s, reading its
// processes around each.
func (e *env) measure(ctx context.Context, s subject, f Flags) (Measurement, error) {
	var m Measurement
	ps := e.procs[s.name()]
	var before, after benchproc.Usage
	var errs []error
	read := func(into *benchproc.Usage) func() {
		return func() {
			u, err := usage(ps)
			*into, errs = u, append(errs, err)
		}
	}
	fixed := s.target(loadgen.PoolConns)
	defer fixed.Close()
	w, err := loadgen.FixedRate(ctx, fixed.Do, f.Rate, f.Warmup, f.Duration, loadgen.MaxInFlight, read(&before), read(&after))
	if err = errors.Join(append(errs, err)...); err != nil {
		return m, err
	}
	m.Latencies = loadgen.Summarize(w)
	m.CPU, m.Window, m.HWM = after.CPU-before.CPU, w.Elapsed, after.HWM
	m.User, m.System = after.User-before.User, after.System-before.System
	time.Sleep(loadgen.Settle)

	closed := s.target(f.Concurrency)
	defer closed.Close()
	read(&before)()
	ok, failed, elapsed := loadgen.ClosedLoop(ctx, closed.Do, f.Concurrency, f.MaxDuration)
	read(&after)()
	if err := errors.Join(errs...); err != nil {
		return m, err
	}
	m.MaxRate, m.MaxErrors = float64(ok)/elapsed.Seconds(), failed
	m.MaxCPU, m.MaxWindow, m.HWM = after.CPU-before.CPU, elapsed, max(m.HWM, after.HWM)
	m.Anon = after.Anon
	return m, ctx.Err()
}

// usage is the usage of the processes ps summed: a cross-network subject's two, each with
// its children (nginx's workers); zero for none (direct).
func usage(ps []*benchproc.Proc) (benchproc.Usage, error) {
	var sum benchproc.Usage
	for _, p := range ps {
		u, err := p.Usage()
		if err != nil {
			return sum, err
		}
		sum.Add(u)
	}
	return sum, nil
}

// loadAverage is the first three fields of /proc/loadavg, or "?".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
