package peersbench

import (
	"math"
	"slices"
	"time"
)

const mib = 1 << 20

// Summary is one subject's figures over the rounds: medians, except the memory figures (the
// highest) and the counts (totals).
type Summary struct {
	subject
	P50, P99, LagP99 time.Duration
	// AddedP50 and AddedP99 are the subject's percentile minus direct's in the same round.
	AddedP50, AddedP99 time.Duration
	Rate               float64
	// CoresPer1k is CPU seconds per second per 1,000 requests/s of the fixed-rate window;
	// CoresPer1kMax the same during the closed-loop phase.
	CoresPer1k, CoresPer1kMax float64
	// UserPer1k and SysPer1k are CoresPer1k's user and system parts, each its own median over
	// the rounds (so they need not add up to CoresPer1k exactly).
	UserPer1k, SysPer1k float64
	MaxRate             float64
	// PeakMiB is the peak RSS; AnonMiB the anonymous RSS at the end of the closed-loop phase.
	PeakMiB, AnonMiB float64
	Errors, Dropped  int
	FirstError       error
}

// summarize reduces the rounds of res to one Summary per subject, in the order of subjects.
func summarize(res Result) []Summary {
	direct := slices.IndexFunc(res.subjects, func(s subject) bool { return s.kind == kindDirect })
	out := make([]Summary, len(res.subjects))
	for i, s := range res.subjects {
		var p50, p99, lag, add50, add99 []time.Duration
		var rate, c1k, c1kMax, user1k, sys1k, maxRate []float64
		sum := Summary{subject: s}
		for _, round := range res.Rounds {
			m := round[i]
			p50, p99, lag = append(p50, m.P50), append(p99, m.P99), append(lag, m.LagP99)
			if direct >= 0 && i != direct {
				add50, add99 = append(add50, m.P50-round[direct].P50), append(add99, m.P99-round[direct].P99)
			}
			rate, maxRate = append(rate, m.Rate), append(maxRate, m.MaxRate)
			c1k = append(c1k, per1k(m.CPU, m.Window, m.Rate))
			c1kMax = append(c1kMax, per1k(m.MaxCPU, m.MaxWindow, m.MaxRate))
			user1k, sys1k = append(user1k, per1k(m.User, m.Window, m.Rate)), append(sys1k, per1k(m.System, m.Window, m.Rate))
			sum.PeakMiB = max(sum.PeakMiB, float64(m.HWM)/mib)
			sum.AnonMiB = max(sum.AnonMiB, float64(m.Anon)/mib)
			sum.Errors += m.Errors + int(m.MaxErrors)
			sum.Dropped += m.Dropped
			if sum.FirstError == nil {
				sum.FirstError = m.FirstError
			}
		}
		sum.P50, sum.P99, sum.LagP99 = medianDur(p50), medianDur(p99), medianDur(lag)
		sum.AddedP50, sum.AddedP99 = medianDur(add50), medianDur(add99)
		sum.Rate, sum.MaxRate = median(rate), median(maxRate)
		sum.CoresPer1k, sum.CoresPer1kMax = median(c1k), median(c1kMax)
		sum.UserPer1k, sum.SysPer1k = median(user1k), median(sys1k)
		out[i] = sum
	}
	return out
}

// per1k is cpu seconds over window, per second, per 1,000 requests/s of rate.
func per1k(cpu float64, window time.Duration, rate float64) float64 {
	if window <= 0 || rate <= 0 {
		return 0
	}
	return cpu / window.Seconds() * 1000 / rate
}

// Ratio is a waypoint's figures divided by one peer's at the same worker count. A ratio
// that has no meaning (a peer's figure of zero or less, or a waypoint that added less than
// nothing) is NaN.
type Ratio struct {
	// Waypoint is the waypoint compared: the same-network one or a cross-network pair.
	Waypoint kind
	Peer     kind
	Workers  int
	// Below 1 favours the waypoint for every ratio but MaxRate, where above 1 does.
	AddedP50, AddedP99, CoresPer1k, UserPer1k, SysPer1k, CoresPer1kMax, PeakRSS, MaxRate float64
}

// comparedKinds are the waypoints compared with peers, in the ratio table's order.
var comparedKinds = []kind{kindWaypoint, kindWaypointH2, kindWaypointH3}

// comparedWith are the subjects a waypoint of kind k is compared with, in the ratio table's
// order: the same-network waypoint with its baseline and the same-network peers, a
// cross-network pair with its baseline pair and the TLS peers.
func comparedWith(k kind) []kind {
	switch k {
	case kindWaypoint:
		return append([]kind{kindBaseline}, peerKinds...)
	case kindWaypointH2, kindWaypointH3:
		return append([]kind{baselineOf(k)}, crossPeerKinds...)
	case kindDirect, kindBaseline, kindHAProxyHTTP, kindHAProxyTCP, kindNginx, kindHAProxyTLS, kindNginxTLS, kindBaselineH2, kindBaselineH3:
		return nil // not compared with anything: they are what the waypoints are compared with
	}
	return nil
}

// ratios compares each waypoint with each of its peers at each worker count: the
// same-network waypoint's first, then each cross-network pair's; within them in the order
// of sums, and for each in comparedWith's order.
func ratios(sums []Summary) []Ratio {
	var out []Ratio
	for _, k := range comparedKinds {
		for _, w := range sums {
			if w.kind == k {
				out = append(out, ratiosOf(w, sums)...)
			}
		}
	}
	return out
}

// ratiosOf compares waypoint w with each of its peers among sums at its worker count, in
// comparedWith's order: its baseline, when measured, first.
func ratiosOf(w Summary, sums []Summary) []Ratio {
	var out []Ratio
	for _, k := range comparedWith(w.kind) {
		i := slices.IndexFunc(sums, func(p Summary) bool { return p.kind == k && p.workers == w.workers })
		if i < 0 {
			continue
		}
		p := sums[i]
		out = append(out, Ratio{
			Waypoint: w.kind, Peer: p.kind, Workers: w.workers,
			AddedP50: ratio(float64(w.AddedP50), float64(p.AddedP50)), AddedP99: ratio(float64(w.AddedP99), float64(p.AddedP99)),
			CoresPer1k: ratio(w.CoresPer1k, p.CoresPer1k), CoresPer1kMax: ratio(w.CoresPer1kMax, p.CoresPer1kMax),
			UserPer1k: ratio(w.UserPer1k, p.UserPer1k), SysPer1k: ratio(w.SysPer1k, p.SysPer1k),
			PeakRSS: ratio(w.PeakMiB, p.PeakMiB), MaxRate: ratio(w.MaxRate, p.MaxRate),
		})
	}
	return out
}

// ratio is a/b, or NaN where it has no meaning.
func ratio(a, b float64) float64 {
	if b <= 0 || a < 0 {
		return math.NaN()
	}
	return a / b
}

// median is the middle value of xs (the mean of the two middle ones for an even count); 0
// for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func medianDur(ds []time.Duration) time.Duration {
	xs := make([]float64, len(ds))
	for i, d := range ds {
		xs[i] = float64(d)
	}
	return time.Duration(math.Round(median(xs)))
}
