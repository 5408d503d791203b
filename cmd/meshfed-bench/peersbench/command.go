package peersbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/benchcmd"
	"github.com/meshfed/meshfed/cmd/meshfed-bench/loadgen"
)

// Flags configure one benchmark run.
type Flags struct {
	// Phases are the load on each proxy.
	loadgen.Phases
	// Rounds is how many times every proxy is measured, in alternating order.
	Rounds int
	// Workers are the worker counts compared: HAProxy's nbthread, nginx's worker_processes,
	// the waypoint's GOMAXPROCS.
	Workers []int
	// WaypointBinary is a prebuilt meshfed-waypoint; empty builds one from the module.
	WaypointBinary string
	// BaselineBinary, when set, is another meshfed-waypoint measured alongside as
	// "waypoint-base" (a change's before, side by side with its after in the same rounds).
	BaselineBinary string
	// CrossNetwork adds the cross-network subjects: two waypoints joined by HBONE on HTTP/2
	// and on HTTP/3, and HAProxy and nginx with a mutual-TLS hop between two processes.
	CrossNetwork bool
}

// DefaultFlags are the flags of the command line.
func DefaultFlags() Flags {
	return Flags{
		Phases: loadgen.Phases{
			Rate: 1000, Warmup: 2 * time.Second, Duration: 10 * time.Second,
			Concurrency: 32, MaxDuration: 3 * time.Second,
		},
		Rounds: 3, Workers: []int{1, 2}, CrossNetwork: true,
	}
}

// Bounds of the flags.
const (
	maxRounds  = 20
	maxWorkers = 8
)

// Validate bounds every loop of the run.
func (f *Flags) Validate() error {
	errs := []error{f.Phases.Validate()}
	if f.Rounds < 1 || f.Rounds > maxRounds {
		errs = append(errs, fmt.Errorf("--rounds must be in [1, %d]", maxRounds))
	}
	if len(f.Workers) == 0 {
		errs = append(errs, errors.New("--workers needs at least one count"))
	}
	seen := map[int]bool{}
	for _, w := range f.Workers {
		if w < 1 || w > maxWorkers || seen[w] {
			errs = append(errs, fmt.Errorf("--workers must be distinct counts in [1, %d], got %d", maxWorkers, w))
		}
		seen[w] = true
	}
	return errors.Join(errs...)
}

// NewCommand returns the `peers` subcommand writing its tables to out and progress to log.
func NewCommand(out io.Writer, log *slog.Logger) *cobra.Command {
	f := DefaultFlags()
	return benchcmd.New(out, benchcmd.Spec[Result]{
		Use:   "peers",
		Short: "The waypoint side by side with HAProxy and nginx at equal worker counts, same-network and across a TLS hop: latency, CPU, memory, max rate, and their ratios",
		Long: `Runs three HTTP/1.1 backends, then the same-network meshfed-waypoint, HAProxy in HTTP mode
and in TCP mode, and nginx as an HTTP proxy in front of them, each with 1 and 2 workers
(GOMAXPROCS, nbthread, worker_processes), and measures each with the same load generator in
alternating rounds, all on loopback. Unless --cross-network=false, it also measures the
cross-network path: two waypoints joined by an HBONE tunnel (HTTP/2, and HTTP/3), against two
HAProxy and two nginx joined by mutual TLS. HAProxy and nginx come from Debian's packages:
when they are missing the command installs them with apt-get if it runs as root, and
otherwise exits saying what to install.`,
		AddFlags: func(fs *pflag.FlagSet) {
			f.AddFlags(fs)
			fs.IntVar(&f.Rounds, "rounds", f.Rounds, "rounds; each measures every proxy once, in the reverse order of the round before")
			fs.IntSliceVar(&f.Workers, "workers", f.Workers, "worker counts to compare (waypoint GOMAXPROCS, haproxy nbthread, nginx worker_processes)")
			fs.StringVar(&f.WaypointBinary, "waypoint-binary", "", "prebuilt meshfed-waypoint (default: go build it from this module)")
			fs.StringVar(&f.BaselineBinary, "baseline-binary", "", "another meshfed-waypoint to measure alongside as waypoint-base, e.g. the build before a change")
			fs.BoolVar(&f.CrossNetwork, "cross-network", f.CrossNetwork, "also measure the cross-network path: waypoint pairs over HBONE h2 and h3 against HAProxy and nginx pairs over mutual TLS (--cross-network=false leaves them out)")
		},
		Validate: f.Validate,
		Run:      func(ctx context.Context) (Result, error) { return Run(ctx, f, log) },
		Print:    PrintTables,
	})
}
