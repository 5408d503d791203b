package hbonebench

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/benchcmd"
)

// Flags configure one benchmark run.
type Flags struct {
	// Duration of each throughput and latency measurement.
	Duration time.Duration
	// Parallel is the number of concurrent streams of the parallel throughput run.
	Parallel int
	// SetupRounds is how many tunnels are opened to time setup.
	SetupRounds int
}

// NewCommand returns the `hbone` subcommand writing its table to out.
func NewCommand(out io.Writer) *cobra.Command {
	f := &Flags{}
	return benchcmd.New(out, benchcmd.Spec[[]Result]{
		Use:   "hbone",
		Short: "Compare TCP, TLS 1.3, HBONE/h2 and HBONE/h3 on loopback",
		AddFlags: func(fs *pflag.FlagSet) {
			fs.DurationVar(&f.Duration, "duration", 2*time.Second, "length of each measurement")
			fs.IntVar(&f.Parallel, "parallel", 16, "streams in the parallel throughput run")
			fs.IntVar(&f.SetupRounds, "setup-rounds", 200, "tunnels opened to time setup")
		},
		Run:   func(ctx context.Context) ([]Result, error) { return Run(ctx, *f) },
		Print: PrintTable,
	})
}

// PrintTable writes results as a table followed by the target checks.
func PrintTable(w io.Writer, res []Result) {
	fmt.Fprintf(w, "%-10s %14s %14s %10s %10s %11s %11s\n", "transport", "1 stream", "parallel", "rtt p50", "rtt p99", "setup new", "setup pool")
	byName := map[string]Result{}
	for _, r := range res {
		byName[r.Name] = r
		fmt.Fprintf(w, "%-10s %9.0f MB/s %9.0f MB/s %10s %10s %11s %11s\n", r.Name, r.Single/1e6, r.Parallel/1e6,
			dur(r.P50), dur(r.P99), dur(r.SetupNew), dur(r.SetupPooled))
	}
	tlsR, h2 := byName["tls"], byName["hbone/h2"]
	if tlsR.Single > 0 && h2.Single > 0 {
		fmt.Fprintf(w, "\nHBONE/h2 single-stream throughput = %.0f%% of TLS (target >= 70%%)\n", 100*h2.Single/tlsR.Single)
		fmt.Fprintf(w, "HBONE/h2 adds %s to the p50 round trip over TLS (target <= 30µs)\n", dur(h2.P50-tlsR.P50))
		fmt.Fprintf(w, "HBONE/h2 pooled tunnel setup %s (target <= 100µs)\n", dur(h2.SetupPooled))
	}
}

func dur(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return d.Round(time.Microsecond / 10).String()
}
