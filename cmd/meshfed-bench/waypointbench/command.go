package waypointbench

import (
	"context"
	"errors"
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
	// Phases are the load on each path.
	loadgen.Phases
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
	return Flags{Phases: loadgen.Phases{Rate: 1000, Warmup: 3 * time.Second, Duration: 20 * time.Second, Concurrency: 32, MaxDuration: 5 * time.Second}}
}

// Validate bounds every loop of the run.
func (f *Flags) Validate() error {
	errs := []error{f.Phases.Validate()}
	if f.ProfileDir != "" && f.Duration < time.Second {
		errs = append(errs, errors.New("--profile-dir needs --duration of at least 1s (profiles are whole seconds)"))
	}
	return errors.Join(errs...)
}

// NewCommand returns the `waypoint` subcommand writing its table to out and progress to log.
func NewCommand(out io.Writer, log *slog.Logger) *cobra.Command {
	f := DefaultFlags()
	return benchcmd.New(out, benchcmd.Spec[Result]{
		Use:   "waypoint",
		Short: "Latency, CPU and memory of meshfed-waypoint processes: direct, through a bare TCP relay, same network, across networks over HBONE",
		AddFlags: func(fs *pflag.FlagSet) {
			f.AddFlags(fs)
			fs.StringVar(&f.WaypointBinary, "waypoint-binary", "", "prebuilt meshfed-waypoint (default: go build it from this module)")
			fs.StringVar(&f.RelayBinary, "relay-binary", "", "prebuilt tcprelay, the reference hop of the path \"relay\" (default: go build it from this module)")
			fs.BoolVar(&f.SkipH3, "skip-h3", false, "leave out the cross-network path over HTTP/3")
			fs.StringVar(&f.ProfileDir, "profile-dir", "", "write CPU profiles of each waypoint over each fixed-rate window, and heap profiles at its end, into this directory (go tool pprof reads them)")
		},
		Validate: f.Validate,
		Run:      func(ctx context.Context) (Result, error) { return Run(ctx, f, log) },
		Print:    PrintTable,
	})
}
