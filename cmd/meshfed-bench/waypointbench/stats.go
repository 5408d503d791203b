package waypointbench

import (
	"math"
	"slices"
	"time"
)

// percentile returns the nearest-rank p-th percentile (0 < p ≤ 100) of sorted: the smallest
// value with at least p % of the samples at or below it; 0 for no samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// latencies summarizes the answered requests of a window.
type latencies struct {
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

func summarize(w window) latencies {
	var lat, lag []time.Duration
	var s latencies
	for _, x := range w.samples {
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
	s.P50, s.P90, s.P99, s.Max = percentile(lat, 50), percentile(lat, 90), percentile(lat, 99), percentile(lat, 100)
	s.LagP99 = percentile(lag, 99)
	if w.elapsed > 0 {
		s.Rate = float64(s.Sent) / w.elapsed.Seconds()
	}
	return s
}
