package waypointbench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/benchproc"
	"github.com/meshfed/meshfed/cmd/meshfed-bench/loadgen"
)

// Result is one benchmark run.
type Result struct {
	Flags Flags
	Paths []PathResult
}

// PathResult holds the figures of one path.
type PathResult struct {
	Name string
	loadgen.Latencies
	// MaxRate is answered requests per second of the closed-loop phase; MaxErrors its failures.
	MaxRate   float64
	MaxErrors int64
	Waypoints []Usage
}

// Usage is one waypoint process during one path's phases.
type Usage struct {
	Name, Cluster, Network string
	// CPU is user+system seconds over Window, the measured part of the fixed-rate phase.
	CPU    float64
	Window time.Duration
	// RSS and HWM are VmRSS and VmHWM (peak since start) at the end of the window, in bytes.
	RSS, HWM uint64
	// MaxCores is CPU seconds per second during the closed-loop phase.
	MaxCores float64
}

// Cores is the waypoint's CPU seconds per second of the window.
func (u Usage) Cores() float64 {
	if u.Window <= 0 {
		return 0
	}
	return u.CPU / u.Window.Seconds()
}

// Run sets up the mesh, measures every path in turn and tears the mesh down.
func Run(ctx context.Context, f Flags, log *slog.Logger) (Result, error) {
	ps := paths(f.SkipH3)
	if f.ProfileDir != "" {
		if err := os.MkdirAll(f.ProfileDir, 0o755); err != nil {
			return Result{}, fmt.Errorf("failed to create --profile-dir: %w", err)
		}
	}
	e, err := newEnv(ctx, f, ps, log)
	if err != nil {
		return Result{}, err
	}
	defer e.close()
	res := Result{Flags: f}
	for _, p := range ps {
		log.Info("measuring", "path", p.name)
		r, err := e.measure(ctx, p, f)
		if err != nil {
			return res, fmt.Errorf("failed to measure path %s: %w", p.name, err)
		}
		res.Paths = append(res.Paths, r)
		time.Sleep(loadgen.Settle)
	}
	return res, nil
}

// measure runs the fixed-rate phase, then the closed-loop phase, on path p.
func (e *env) measure(ctx context.Context, p pathSpec, f Flags) (PathResult, error) {
	r := PathResult{Name: p.name}
	fixed := e.target(p, loadgen.PoolConns)
	defer fixed.Close()
	var before, after []benchproc.Usage
	var errs []error
	snap := func(into *[]benchproc.Usage) func() {
		return func() {
			u, err := e.usages(p)
			*into, errs = u, append(errs, err)
		}
	}
	begin, end := snap(&before), snap(&after)
	var prof *profiler
	if f.ProfileDir != "" {
		prof = &profiler{dir: f.ProfileDir, path: p.name, nodes: waypointsOf(p.nodes)}
		begin = func() { snap(&before)(); prof.startCPU(ctx, f.Duration) }
	}
	w, err := loadgen.FixedRate(ctx, fixed.Do, f.Rate, f.Warmup, f.Duration, loadgen.MaxInFlight, begin, end)
	if prof != nil {
		errs = append(errs, prof.finish(ctx))
	}
	if err = errors.Join(append(errs, err)...); err != nil {
		return r, err
	}
	r.Latencies = loadgen.Summarize(w)
	for i, n := range p.nodes {
		r.Waypoints = append(r.Waypoints, Usage{
			Name: n.Name, Cluster: n.Cluster, Network: n.Network,
			CPU: after[i].CPU - before[i].CPU, Window: w.Elapsed, RSS: after[i].RSS, HWM: after[i].HWM,
		})
	}
	time.Sleep(loadgen.Settle)

	closed := e.target(p, f.Concurrency)
	defer closed.Close()
	snap(&before)()
	ok, failed, elapsed := loadgen.ClosedLoop(ctx, closed.Do, f.Concurrency, f.MaxDuration)
	snap(&after)()
	if err := errors.Join(errs...); err != nil {
		return r, err
	}
	r.MaxRate, r.MaxErrors = float64(ok)/elapsed.Seconds(), failed
	for i := range r.Waypoints {
		r.Waypoints[i].MaxCores = (after[i].CPU - before[i].CPU) / elapsed.Seconds()
	}
	return r, ctx.Err()
}

// usages reads every waypoint process of p.
func (e *env) usages(p pathSpec) ([]benchproc.Usage, error) {
	out := make([]benchproc.Usage, 0, len(p.nodes))
	for _, n := range p.nodes {
		u, err := e.procs[n.Name].Usage()
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}
