package loadgen

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"
)

// Phases are the load a proxy benchmark puts on each subject: a fixed-rate latency phase
// after an unmeasured warm-up, then a closed-loop max-throughput phase.
type Phases struct {
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
}

// Bounds of Phases.
const (
	MaxRate        = 100_000
	MaxConcurrency = 1024
	maxPhase       = time.Hour
)

// AddFlags adds --rate, --warmup, --duration, --concurrency and --max-duration, defaulting to
// p's values.
func (p *Phases) AddFlags(fs *pflag.FlagSet) {
	fs.Float64Var(&p.Rate, "rate", p.Rate, "requests per second of the fixed-rate latency phase")
	fs.DurationVar(&p.Warmup, "warmup", p.Warmup, "unmeasured load at --rate before each latency phase")
	fs.DurationVar(&p.Duration, "duration", p.Duration, "measured window of each latency phase")
	fs.IntVar(&p.Concurrency, "concurrency", p.Concurrency, "closed-loop clients of each max-throughput phase")
	fs.DurationVar(&p.MaxDuration, "max-duration", p.MaxDuration, "length of each max-throughput phase")
}

// Validate bounds every loop of the phases, naming the flags at fault.
func (p Phases) Validate() error {
	var errs []error
	if p.Rate <= 0 || p.Rate > MaxRate {
		errs = append(errs, fmt.Errorf("--rate must be in (0, %d]", MaxRate))
	}
	if p.Warmup < 0 || p.Warmup > maxPhase {
		errs = append(errs, errors.New("--warmup must be in [0, 1h]"))
	}
	if p.Duration <= 0 || p.Duration > maxPhase {
		errs = append(errs, errors.New("--duration must be in (0, 1h]"))
	}
	if p.MaxDuration <= 0 || p.MaxDuration > maxPhase {
		errs = append(errs, errors.New("--max-duration must be in (0, 1h]"))
	}
	if p.Concurrency < 1 || p.Concurrency > MaxConcurrency {
		errs = append(errs, fmt.Errorf("--concurrency must be in [1, %d]", MaxConcurrency))
	}
	if n := (p.Warmup + p.Duration).Seconds() * p.Rate; n > MaxRequests {
		errs = append(errs, fmt.Errorf("--rate × (--warmup + --duration) = %.0f requests, more than %d", n, MaxRequests))
	}
	return errors.Join(errs...)
}
