package peersbench

import (
	"fmt"
	"io"
	"math"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/benchstat"
)

// PrintTables writes the absolute figures of every subject, then the ratios waypoint/peer:
// the same-network waypoint's, then each cross-network pair's, each under its own header.
func PrintTables(w io.Writer, res Result) {
	f := res.Flags
	fmt.Fprintf(w, "HTTP/1.1 keep-alive, POST 1 KiB → 200 with 1 KiB, %d backends; fixed rate %.0f req/s for %s after %s warm-up; max: %d closed-loop clients for %s\n",
		len(backendIPs3), f.Rate, f.Duration, f.Warmup, f.Concurrency, f.MaxDuration)
	fmt.Fprintf(w, "%d rounds in alternating order, medians over rounds (peak and anon: the highest); load average before %s, after %s\n\n", len(res.Rounds), res.LoadBefore, res.LoadAfter)
	sums := summarize(res)
	width := nameWidth(sums)
	fmt.Fprintf(w, "%-*s %8s %6s %7s %9s %9s %9s %9s %9s %12s %7s %7s %13s %8s %8s %10s\n",
		width, "proxy", "req/s", "errors", "dropped", "p50", "p99", "+p50", "+p99", "lag p99", "cores/1k rps", "user/1k", "sys/1k", "cores/1k@max", "peak MiB", "anon MiB", "max req/s")
	for _, s := range sums {
		add50, add99, c1k, user1k, sys1k, c1kMax, peak, anon := "-", "-", "-", "-", "-", "-", "-", "-"
		if s.kind != kindDirect {
			add50, add99 = benchstat.Signed(s.AddedP50), benchstat.Signed(s.AddedP99)
			c1k, user1k, sys1k, c1kMax = cores(s.CoresPer1k), cores(s.UserPer1k), cores(s.SysPer1k), cores(s.CoresPer1kMax)
			peak, anon = fmt.Sprintf("%.1f", s.PeakMiB), fmt.Sprintf("%.1f", s.AnonMiB)
		}
		fmt.Fprintf(w, "%-*s %8.1f %6d %7d %9s %9s %9s %9s %9s %12s %7s %7s %13s %8s %8s %10.0f\n", width, s.name(), s.Rate, s.Errors, s.Dropped,
			benchstat.Duration(s.P50), benchstat.Duration(s.P99), add50, add99, benchstat.Duration(s.LagP99), c1k, user1k, sys1k, c1kMax, peak, anon, s.MaxRate)
	}
	var group kind
	for _, r := range ratios(sums) {
		if r.Waypoint != group {
			group = r.Waypoint
			fmt.Fprintf(w, "\n%-32s %8s %8s %12s %8s %8s %13s %9s %10s\n", ratioHeader(group), "+p50", "+p99", "cores/1k rps", "user/1k", "sys/1k", "cores/1k@max", "peak RSS", "max req/s")
		}
		fmt.Fprintf(w, "%-32s %8s %8s %12s %8s %8s %13s %9s %10s\n", fmt.Sprintf("/ %s, workers %d", r.Peer, r.Workers),
			times(r.AddedP50), times(r.AddedP99), times(r.CoresPer1k), times(r.UserPer1k), times(r.SysPer1k), times(r.CoresPer1kMax), times(r.PeakRSS), times(r.MaxRate))
	}
	for _, s := range sums {
		if s.FirstError != nil {
			fmt.Fprintf(w, "%s: first error: %v\n", s.name(), s.FirstError)
		}
	}
}

// nameWidth is the width of the first column of the absolute figures: 15, or the longest
// subject's name where it is longer (a baseline pair's, "waypoint-base-h2/1").
func nameWidth(sums []Summary) int {
	width := 15
	for _, s := range sums {
		width = max(width, len(s.name()))
	}
	return width
}

// ratioHeader heads the ratios of waypoint k: the same-network waypoint's against every
// peer, a cross-network pair's against the TLS peers.
func ratioHeader(k kind) string {
	if k == kindWaypoint {
		return "waypoint / peer (same workers)"
	}
	return string(k) + " / TLS peer"
}

// cores formats cores per 1,000 requests/s.
func cores(c float64) string { return fmt.Sprintf("%.3f", c) }

// times formats a ratio as "1.23×", or "n/a" when it has no meaning.
func times(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", r)
}
