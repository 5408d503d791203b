package waypointbench

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
	// WaypointBinary is a prebuilt meshfed-waypoint; empty builds one from the module.
	WaypointBinary string
	// RelayBinary is a prebuilt tcprelay (cmd/meshfed-bench/tcprelay); empty builds one.
	RelayBinary string
	// SkipH3 leaves out the cross-network path over HTTP/3.
	SkipH3 bool
	// ProfileDir, when set, receives a CPU profile of every waypoint over each fixed-rate
	// window and a heap profile at its end (<path>.<waypoint>.cpu.pprof, .heap.pprof).
	ProfileDir string
}

// DefaultFlags are the flags of the command line.
func DefaultFlags() Flags {
	return Flags{Rate: 1000, Warmup: 3 * time.Second, Duration: 20 * time.Second, Concurrency: 32, MaxDuration: 5 * time.Second}
}

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
	if f.ProfileDir != "" && f.Duration < time.Second {
		errs = append(errs, errors.New("--profile-dir needs --duration of at least 1s (profiles are whole seconds)"))
	}
	if n := (f.Warmup + f.Duration).Seconds() * f.Rate; n > maxRequests {
		errs = append(errs, fmt.Errorf("--rate × (--warmup + --duration) = %.0f requests, more than %d", n, maxRequests))
	}
	return errors.Join(errs...)
}

// Bounds of the flags.
const (
	maxRate        = 100_000
	maxConcurrency = 1024
	maxRequests    = loadgen.MaxRequests
)

// NewCommand returns the `waypoint` subcommand writing its table to out and progress to log.
func NewCommand(out io.Writer, log *slog.Logger) *cobra.Command {
	f := DefaultFlags()
	cmd := &cobra.Command{
		Use:   "waypoint",
		Short: "Latency, CPU and memory of meshfed-waypoint processes: direct, through a bare TCP relay, same network, across networks over HBONE",
		Args:  cmdline.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.Validate(); err != nil {
				return cmdline.Usage(err)
			}
			res, err := Run(cmd.Context(), f, log)
			if err != nil {
				return err
			}
			PrintTable(out, res)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.Float64Var(&f.Rate, "rate", f.Rate, "requests per second of the fixed-rate latency phase")
	fs.DurationVar(&f.Warmup, "warmup", f.Warmup, "unmeasured load at --rate before each latency phase")
	fs.DurationVar(&f.Duration, "duration", f.Duration, "measured window of each latency phase")
	fs.IntVar(&f.Concurrency, "concurrency", f.Concurrency, "closed-loop clients of each max-throughput phase")
	fs.DurationVar(&f.MaxDuration, "max-duration", f.MaxDuration, "length of each max-throughput phase")
	fs.StringVar(&f.WaypointBinary, "waypoint-binary", "", "prebuilt meshfed-waypoint (default: go build it from this module)")
	fs.StringVar(&f.RelayBinary, "relay-binary", "", "prebuilt tcprelay, the reference hop of the path \"relay\" (default: go build it from this module)")
	fs.BoolVar(&f.SkipH3, "skip-h3", false, "leave out the cross-network path over HTTP/3")
	fs.StringVar(&f.ProfileDir, "profile-dir", "", "write CPU profiles of each waypoint over each fixed-rate window, and heap profiles at its end, into this directory (go tool pprof reads them)")
	return cmd
}
