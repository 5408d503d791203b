package dnsbench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// PrintTable writes the result: per server the medians over the rounds, the ratios, memory.
func PrintTable(w io.Writer, res Result) {
	f := res.Flags
	fmt.Fprintf(w, "%d services, %d rounds alternated, %s per phase, %d clients in the throughput phase, 1 in the single-client phase\n\n",
		f.Services, f.Rounds, f.Duration, f.Concurrency)
	fmt.Fprintf(w, "%-12s %10s %10s %10s %10s %10s %8s  %s\n", "server", "qps", "p50", "p99", "1-cl p50", "1-cl p99", "errors", "qps per round")
	for _, s := range res.Servers {
		fmt.Fprintf(w, "%-12s %10.0f %10s %10s %10s %10s %8d  %s\n", s.Name,
			median(s.Throughput, phase.QPS), dur(medianDur(s.Throughput, p50)), dur(medianDur(s.Throughput, p99)),
			dur(medianDur(s.Single, p50)), dur(medianDur(s.Single, p99)), errorsOf(s), perRound(s.Throughput))
	}
	if len(res.Servers) == 2 {
		m, c := res.Servers[0], res.Servers[1]
		qm, qc := median(m.Throughput, phase.QPS), median(c.Throughput, phase.QPS)
		fmt.Fprintf(w, "\nmeshfed-dns / coredns: qps ×%.2f, p99 ×%.2f, single-client p99 ×%.2f   %s meshfed-dns at least as fast\n",
			qm/qc, ratio(medianDur(m.Throughput, p99), medianDur(c.Throughput, p99)), ratio(medianDur(m.Single, p99), medianDur(c.Single, p99)), mark(qm >= qc))
		per := 10000 / float64(f.Services)
		fmt.Fprintf(w, "\nmemory    meshfed-dns: RSS %.1f MiB, heap %.1f MiB with no service; RSS %.1f MiB, heap %.1f MiB with %d;"+
			" per 10,000 services RSS +%.1f MiB, heap +%.1f MiB\n",
			mib(res.MeshfedEmpty.RSS), mib(res.MeshfedEmpty.Heap), mib(res.MeshfedLoaded.RSS), mib(res.MeshfedLoaded.Heap), f.Services,
			mib(res.MeshfedLoaded.RSS-res.MeshfedEmpty.RSS)*per, mib(res.MeshfedLoaded.Heap-res.MeshfedEmpty.Heap)*per)
		fmt.Fprintf(w, "          after the rounds: meshfed-dns RSS %.1f MiB, coredns RSS %.1f MiB (zone files of the same %d services)\n",
			mib(m.Memory.RSS), mib(c.Memory.RSS), f.Services)
		fmt.Fprintf(w, "follow    %d ServiceImports written in %s; meshfed-dns answered the last %s after its write\n",
			f.Services, res.ImportsWritten.Round(time.Millisecond), res.Followed.Round(time.Millisecond))
	}
	for _, s := range res.Servers {
		for _, p := range slices.Concat(s.Throughput, s.Single) {
			if p.FirstError != nil {
				fmt.Fprintf(w, "first error of %s: %v\n", s.Name, p.FirstError)
				break
			}
		}
	}
}

func p50(p phase) time.Duration { return p.P50 }
func p99(p phase) time.Duration { return p.P99 }

func median(ps []phase, v func(phase) float64) float64 {
	xs := make([]float64, 0, len(ps))
	for _, p := range ps {
		xs = append(xs, v(p))
	}
	slices.Sort(xs)
	if len(xs) == 0 {
		return 0
	}
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}

func medianDur(ps []phase, v func(phase) time.Duration) time.Duration {
	return time.Duration(median(ps, func(p phase) float64 { return float64(v(p)) }))
}

func errorsOf(s ServerResult) int64 {
	var n int64
	for _, p := range slices.Concat(s.Throughput, s.Single) {
		n += p.Errors
	}
	return n
}

func perRound(ps []phase) string {
	var parts []string
	for _, p := range ps {
		parts = append(parts, fmt.Sprintf("%.0f", p.QPS()))
	}
	return strings.Join(parts, " ")
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func mib(b float64) float64 { return b / (1 << 20) }

func dur(d time.Duration) string {
	switch {
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%dµs", d.Microseconds())
	}
}

func mark(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}
