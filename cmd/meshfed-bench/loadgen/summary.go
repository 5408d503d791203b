package loadgen

import (
	"slices"
	"time"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/benchstat"
)

// Latencies summarizes the answered requests of a window.
type Latencies struct {
	P50, P90, P99, Max time.Duration
	// LagP99 is the 99th percentile of how late requests were sent against their schedule: the
	// load generator's own delay, not counted in the latencies.
	LagP99 time.Duration
	// Sent counts the measured requests sent, Errors those of them that failed, Dropped those
	// not sent for want of a slot; Rate is Sent per second of the window.
	Sent, Errors, Dropped int
	Rate                  float64
	// FirstError is one of the errors, for the report.
	FirstError error
}

// Summarize computes the percentiles and counts of w.
func Summarize(w Window) Latencies {
	var lat, lag []time.Duration
	var s Latencies
	for _, x := range w.Samples {
		if !x.sent {
			s.Dropped++
			continue
		}
		s.Sent++
		lag = append(lag, x.lag)
		if x.err != nil {
			s.Errors++
			if s.FirstError == nil {
				s.FirstError = x.err
			}
			continue
		}
		lat = append(lat, x.latency)
	}
	slices.Sort(lat)
	slices.Sort(lag)
	s.P50, s.P90, s.P99, s.Max = benchstat.Percentile(lat, 50), benchstat.Percentile(lat, 90), benchstat.Percentile(lat, 99), benchstat.Percentile(lat, 100)
	s.LagP99 = benchstat.Percentile(lag, 99)
	if w.Elapsed > 0 {
		s.Rate = float64(s.Sent) / w.Elapsed.Seconds()
	}
	return s
}
