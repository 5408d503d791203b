package waypointbench

import (
	"fmt"
	"io"
	"time"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/benchstat"
)

// The targets of the waypoint (the figures; Istio's waypoint is ~0.25 vCPU and 60 MB
// per 1,000 requests/s).
const (
	targetAddedP50   = 150 * time.Microsecond
	targetAddedP99   = time.Millisecond
	targetCoresPer1k = 0.1
	targetMiBPer1k   = 40.0
)

const mib = 1 << 20

// PrintTable writes the path table, the waypoint table and the target checks.
func PrintTable(w io.Writer, res Result) {
	f := res.Flags
	fmt.Fprintf(w, "HTTP/1.1 keep-alive, POST 1 KiB → 200 with 1 KiB; fixed rate %.0f req/s for %s after %s warm-up; max: %d closed-loop clients for %s\n\n",
		f.Rate, f.Duration, f.Warmup, f.Concurrency, f.MaxDuration)
	fmt.Fprintf(w, "%-17s %8s %6s %7s %9s %9s %9s %9s %9s %9s %9s %10s\n",
		"path", "req/s", "errors", "dropped", "p50", "p90", "p99", "max", "+p50", "+p99", "lag p99", "max req/s")
	var direct *PathResult
	for i := range res.Paths {
		p := &res.Paths[i]
		if p.Name == "direct" {
			direct = p
		}
		add50, add99 := "-", "-"
		if direct != nil && p != direct {
			add50, add99 = benchstat.Signed(p.P50-direct.P50), benchstat.Signed(p.P99-direct.P99)
		}
		fmt.Fprintf(w, "%-17s %8.1f %6d %7d %9s %9s %9s %9s %9s %9s %9s %10.0f\n", p.Name, p.Rate, p.Errors+int(p.MaxErrors), p.Dropped,
			benchstat.Duration(p.P50), benchstat.Duration(p.P90), benchstat.Duration(p.P99), benchstat.Duration(p.Max), add50, add99, benchstat.Duration(p.LagP99), p.MaxRate)
	}
	fmt.Fprintf(w, "\n%-8s %-8s %-17s %7s %7s %12s %8s %9s %10s %13s\n",
		"process", "cluster", "path", "CPU s", "cores", "cores/1k rps", "RSS MiB", "peak MiB", "cores@max", "cores/1k@max")
	for _, p := range res.Paths {
		for _, u := range p.Waypoints {
			where := u.Cluster + "/" + u.Network
			if u.Cluster == "" {
				where = "-"
			}
			fmt.Fprintf(w, "%-8s %-8s %-17s %7.2f %7.3f %12.3f %8.1f %9.1f %10.2f %13.3f\n", u.Name, where, p.Name,
				u.CPU, u.Cores(), per1k(u.Cores(), p.Rate), float64(u.RSS)/mib, float64(u.HWM)/mib, u.MaxCores, per1k(u.MaxCores, p.MaxRate))
		}
	}
	fmt.Fprintln(w)
	for _, line := range checks(res) {
		fmt.Fprintln(w, line)
	}
	for _, p := range res.Paths {
		if p.FirstError != nil {
			fmt.Fprintf(w, "%s: first error: %v\n", p.Name, p.FirstError)
		}
	}
}

// checks compares the measured figures with the targets; every mark is computed here. The
// relay is no waypoint and has no targets: its line says what any extra process costs.
func checks(res Result) []string {
	var direct, relay, same *PathResult
	for i := range res.Paths {
		switch res.Paths[i].Name {
		case "direct":
			direct = &res.Paths[i]
		case "relay":
			relay = &res.Paths[i]
		case "same-network":
			same = &res.Paths[i]
		}
	}
	var out []string
	if direct != nil && same != nil {
		add50, add99 := same.P50-direct.P50, same.P99-direct.P99
		out = append(out,
			fmt.Sprintf("%s same-network adds %s to p50 over direct (target ≤ %s)", mark(add50 <= targetAddedP50), benchstat.Signed(add50), targetAddedP50),
			fmt.Sprintf("%s same-network adds %s to p99 over direct (target ≤ %s)", mark(add99 <= targetAddedP99), benchstat.Signed(add99), targetAddedP99))
	}
	if direct != nil && relay != nil {
		line := fmt.Sprintf("· reference: the bare TCP relay adds %s to p50 and %s to p99 over direct", benchstat.Signed(relay.P50-direct.P50), benchstat.Signed(relay.P99-direct.P99))
		if len(relay.Waypoints) == 1 {
			line += fmt.Sprintf(" and uses %.3f cores per 1,000 req/s", per1k(relay.Waypoints[0].Cores(), relay.Rate))
		}
		out = append(out, line)
	}
	for _, p := range res.Paths {
		if p.Name == "relay" {
			continue
		}
		// Memory does not shrink with the rate, so below 1,000 requests/s the budget stays 40 MiB.
		memBudget := targetMiBPer1k * max(1, p.Rate/1000)
		for _, u := range p.Waypoints {
			c := per1k(u.Cores(), p.Rate)
			peak := float64(u.HWM) / mib
			out = append(out,
				fmt.Sprintf("%s %s (%s) uses %.3f cores per 1,000 req/s (target ≤ %.1f)", mark(p.Rate > 0 && c <= targetCoresPer1k), u.Name, p.Name, c, targetCoresPer1k),
				fmt.Sprintf("%s %s (%s) peak RSS %.1f MiB at %.0f req/s (target ≤ %.0f MiB)", mark(u.HWM > 0 && peak <= memBudget), u.Name, p.Name, peak, p.Rate, memBudget))
		}
	}
	return out
}

// per1k scales cores at rate requests/s to cores per 1,000 requests/s.
func per1k(cores, rate float64) float64 {
	if rate <= 0 {
		return 0
	}
	return cores * 1000 / rate
}

func mark(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}
