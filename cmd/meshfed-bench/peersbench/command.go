package peersbench

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/loadgen"
	"github.com/meshfed/meshfed/internal/cmdline"
)

// Flags configure one benchmark run.
type Flags struct {
	// Rate is the fixed request rate of the latency phase, per second.
	Rate float64
	// Warmup is sent at Rate before each latency phase and not measured.
	Warmup time.Duration
	// Duration is the measured window of each latency phase.
	Duration time.Duration
	// Concurrency is the number of closed-loop clients of each throughput phase.
	Concurrency int
	// MaxDuration is the length of each throughput phase.
	MaxDuration time.Duration
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
}

// DefaultFlags are the flags of the command line.
func DefaultFlags() Flags {
	return Flags{
		Rate: 1000, Warmup: 2 * time.Second, Duration: 10 * time.Second,
		Concurrency: 32, MaxDuration: 3 * time.Second, Rounds: 3, Workers: []int{1, 2},
	}
}

// Bounds of the flags.
const (
	maxRate        = 100_000
	maxConcurrency = 1024
	maxRounds      = 20
	maxWorkers     = 8
)

// Validate bounds every loop of the run.
func (f *Flags) Validate() error {
	var errs []error
	if f.Rate <= 0 || f.Rate > maxRate {
		errs = append(errs, fmt.Errorf("--rate must be in (0, %d]", maxRate))
	}
	if f.Warmup < 0 || f.Warmup > time.Hour {
		errs = append(errs, errors.New("--warmup must be in [0, 1h]"))
	}
	if f.Duration <= 0 || f.Duration > time.Hour {
		errs = append(errs, errors.New("--duration must be in (0, 1h]"))
	}
	if f.MaxDuration <= 0 || f.MaxDuration > time.Hour {
		errs = append(errs, errors.New("--max-duration must be in (0, 1h]"))
	}
	if f.Concurrency < 1 || f.Concurrency > maxConcurrency {
		errs = append(errs, fmt.Errorf("--concurrency must be in [1, %d]", maxConcurrency))
	}
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
	if n := (f.Warmup + f.Duration).Seconds() * f.Rate; n > loadgen.MaxRequests {
		errs = append(errs, fmt.Errorf("--rate × (--warmup + --duration) = %.0f requests, more than %d", n, loadgen.MaxRequests))
	}
	return errors.Join(errs...)
}

// NewCommand returns the `peers` subcommand writing its tables to out and progress to log.
func NewCommand(out io.Writer, log *slog.Logger) *cobra.Command {
	f := DefaultFlags()
	cmd := &cobra.Command{
		Use:   "peers",
		Short: "The same-network waypoint side by side with HAProxy (HTTP and TCP modes) and nginx at equal worker counts: latency, CPU, memory, max rate, and their ratios",
		Long: `Runs three HTTP/1.1 backends, then the same-network meshfed-waypoint, HAProxy in HTTP mode
and in TCP mode, and nginx as an HTTP proxy in front of them, each with 1 and 2 workers
(GOMAXPROCS, nbthread, worker_processes), and measures each with the same load generator in
alternating rounds, all on loopback. HAProxy and nginx come from Debian's packages: when they
are missing the command installs them with apt-get if it runs as root, and otherwise exits
saying what to install.`,
		Args: cmdline.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.Validate(); err != nil {
				return cmdline.Usage(err)
			}
			res, err := Run(cmd.Context(), f, log)
			if err != nil {
				return err
			}
			PrintTables(out, res)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.Float64Var(&f.Rate, "rate", f.Rate, "requests per second of the fixed-rate latency phase")
	fs.DurationVar(&f.Warmup, "warmup", f.Warmup, "unmeasured load at --rate before each latency phase")
	fs.DurationVar(&f.Duration, "duration", f.Duration, "measured window of each latency phase")
	fs.IntVar(&f.Concurrency, "concurrency", f.Concurrency, "closed-loop clients of each max-throughput phase")
	fs.DurationVar(&f.MaxDuration, "max-duration", f.MaxDuration, "length of each max-throughput phase")
	fs.IntVar(&f.Rounds, "rounds", f.Rounds, "rounds; each measures every proxy once, in the reverse order of the round before")
	fs.IntSliceVar(&f.Workers, "workers", f.Workers, "worker counts to compare (waypoint GOMAXPROCS, haproxy nbthread, nginx worker_processes)")
	fs.StringVar(&f.WaypointBinary, "waypoint-binary", "", "prebuilt meshfed-waypoint (default: go build it from this module)")
	fs.StringVar(&f.BaselineBinary, "baseline-binary", "", "another meshfed-waypoint to measure alongside as waypoint-base, e.g. the build before a change")
	return cmd
}
