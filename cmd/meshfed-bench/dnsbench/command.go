package dnsbench

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
)

// Flags configure one benchmark run.
type Flags struct {
	// Services is how many global services (ServiceImports) both servers serve.
	Services int
	// Rounds is how many times each server is measured; the order alternates every round.
	Rounds int
	// Duration is the length of each phase of a round.
	Duration time.Duration
	// Warmup is sent before each server's phases of a round and not measured.
	Warmup time.Duration
	// Concurrency is the number of closed-loop clients of the throughput phase, each with its
	// own UDP socket and one query in flight.
	Concurrency int
	// DNSBinary is a prebuilt meshfed-dns; empty builds one from the module.
	DNSBinary string
}

// DefaultFlags are the flags of the command line.
func DefaultFlags() Flags {
	return Flags{Services: 10000, Rounds: 5, Duration: 3 * time.Second, Warmup: 500 * time.Millisecond, Concurrency: 32}
}

// Bounds of the flags.
const (
	maxServices    = 100_000
	maxRounds      = 100
	maxConcurrency = 1024
)

// Validate bounds every loop of the run.
func (f *Flags) Validate() error {
	var errs []error
	if f.Services < 1 || f.Services > maxServices {
		errs = append(errs, fmt.Errorf("--services must be in [1, %d]", maxServices))
	}
	if f.Rounds < 1 || f.Rounds > maxRounds {
		errs = append(errs, fmt.Errorf("--rounds must be in [1, %d]", maxRounds))
	}
	if f.Duration <= 0 || f.Duration > 10*time.Minute {
		errs = append(errs, errors.New("--duration must be in (0, 10m]"))
	}
	if f.Warmup < 0 || f.Warmup > time.Minute {
		errs = append(errs, errors.New("--warmup must be in [0, 1m]"))
	}
	if f.Concurrency < 1 || f.Concurrency > maxConcurrency {
		errs = append(errs, fmt.Errorf("--concurrency must be in [1, %d]", maxConcurrency))
	}
	return errors.Join(errs...)
}

// NewCommand returns the `dns` subcommand writing its table to out and progress to log.
func NewCommand(out io.Writer, log *slog.Logger) *cobra.Command {
	f := DefaultFlags()
	return benchcmd.New(out, benchcmd.Spec[Result]{
		Use:   "dns",
		Short: "Queries per second, latency and memory of meshfed-dns against CoreDNS serving the same names from zone files",
		AddFlags: func(fs *pflag.FlagSet) {
			fs.IntVar(&f.Services, "services", f.Services, "global services (ServiceImports) served by both servers")
			fs.IntVar(&f.Rounds, "rounds", f.Rounds, "rounds; each measures both servers, in alternating order")
			fs.DurationVar(&f.Duration, "duration", f.Duration, "length of each measured phase")
			fs.DurationVar(&f.Warmup, "warmup", f.Warmup, "unmeasured load before each server's phases of a round")
			fs.IntVar(&f.Concurrency, "concurrency", f.Concurrency, "closed-loop clients of the throughput phase")
			fs.StringVar(&f.DNSBinary, "dns-binary", f.DNSBinary, "a prebuilt meshfed-dns (default: go build from the module)")
		},
		Validate: f.Validate,
		Run:      func(ctx context.Context) (Result, error) { return Run(ctx, f, log) },
		Print:    PrintTable,
	})
}
