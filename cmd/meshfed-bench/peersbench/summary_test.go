package peersbench

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/loadgen"
)

const us = time.Microsecond

// measurement is one round's figures at 1,000 req/s over a 10 s window and a 2 s closed loop,
// with user and sys CPU seconds in the window (CPU their sum).
func measurement(p50, p99 time.Duration, user, sys, maxCPU, maxRate float64, hwm, anon uint64) Measurement {
	return Measurement{
		Latencies: loadgen.Latencies{P50: p50, P99: p99, Rate: 1000, Sent: 10000},
		CPU:       user + sys, User: user, System: sys, Window: 10 * time.Second,
		MaxCPU: maxCPU, MaxWindow: 2 * time.Second, MaxRate: maxRate, HWM: hwm, Anon: anon,
	}
}

// twoRounds: direct, waypoint/1 and haproxy-http/1 over two rounds with known figures.
func twoRounds() Result {
	subs := []subject{{kind: kindDirect}, {kind: kindWaypoint, workers: 1}, {kind: kindHAProxyHTTP, workers: 1}}
	m := measurement
	return Result{subjects: subs, Rounds: [][]Measurement{
		{m(100*us, 500*us, 0, 0, 0, 20000, 0, 0), m(300*us, 1500*us, 1.2, 0.8, 1.6, 8000, 30<<20, 9<<20), m(200*us, 700*us, 0.4, 0.6, 1.0, 10000, 15<<20, 4<<20)},
		{m(120*us, 600*us, 0, 0, 0, 22000, 0, 0), m(360*us, 2600*us, 2.1, 0.9, 2.0, 10000, 32<<20, 8<<20), m(220*us, 900*us, 0.5, 0.5, 1.0, 10000, 14<<20, 3<<20)},
	}}
}

func TestSummarize(t *testing.T) {
	sums := summarize(twoRounds())
	d, w, h := sums[0], sums[1], sums[2]
	// Added latency is taken round by round against direct, then the median of the rounds.
	if w.AddedP50 != 220*us || w.AddedP99 != 1500*us { // (200, 240) and (1000, 2000)
		t.Errorf("waypoint added p50 %v p99 %v; want 220µs, 1.5ms", w.AddedP50, w.AddedP99)
	}
	if h.AddedP50 != 100*us || h.AddedP99 != 250*us {
		t.Errorf("haproxy added p50 %v p99 %v; want 100µs, 250µs", h.AddedP50, h.AddedP99)
	}
	// 2.0 and 3.0 CPU s over 10 s at 1,000 req/s: 0.2 and 0.3 cores per 1k, median 0.25.
	if !near(w.CoresPer1k, 0.25) || !near(h.CoresPer1k, 0.1) {
		t.Errorf("cores/1k: waypoint %v haproxy %v; want 0.25, 0.1", w.CoresPer1k, h.CoresPer1k)
	}
	// At max: 1.6 s / 2 s / 8,000 req/s = 0.1 per 1k; 2.0 / 2 / 10,000 = 0.1.
	if !near(w.CoresPer1kMax, 0.1) || !near(w.MaxRate, 9000) || !near(w.PeakMiB, 32) {
		t.Errorf("waypoint cores/1k@max %v, max rate %v, peak %v MiB; want 0.1, 9000, 32", w.CoresPer1kMax, w.MaxRate, w.PeakMiB)
	}
	if d.AddedP50 != 0 || d.P50 != 110*us || !near(d.MaxRate, 21000) {
		t.Errorf("direct: added %v p50 %v max %v", d.AddedP50, d.P50, d.MaxRate)
	}
	// User 1.2 and 2.1 s, system 0.8 and 0.9 s over 10 s: medians 0.165 and 0.085 per 1k;
	// haproxy's 0.4 and 0.5, 0.6 and 0.5 s: 0.045 and 0.055. Anon: the highest, 9 and 4 MiB.
	if !near(w.UserPer1k, 0.165) || !near(w.SysPer1k, 0.085) || !near(h.UserPer1k, 0.045) || !near(h.SysPer1k, 0.055) {
		t.Errorf("user/1k, sys/1k: waypoint %v, %v; haproxy %v, %v; want 0.165, 0.085; 0.045, 0.055", w.UserPer1k, w.SysPer1k, h.UserPer1k, h.SysPer1k)
	}
	if !near(w.AnonMiB, 9) || !near(h.AnonMiB, 4) || d.AnonMiB != 0 {
		t.Errorf("anon MiB: waypoint %v, haproxy %v, direct %v; want 9, 4, 0", w.AnonMiB, h.AnonMiB, d.AnonMiB)
	}
}

// TestSummarizeUserSys: user/1k and sys/1k are each the median of their own column over
// the rounds, not the parts of the round whose total is the median, nor a mean, nor the last
// round's; anon is the highest round's, not the last.
func TestSummarizeUserSys(t *testing.T) {
	m := measurement
	res := Result{subjects: []subject{{kind: kindWaypoint, workers: 1}}, Rounds: [][]Measurement{
		{m(0, 0, 5, 4, 0, 0, 0, 9<<20)}, // total 9, the median: its user and sys are not
		{m(0, 0, 6, 1, 0, 0, 0, 12<<20)},
		{m(0, 0, 9, 3, 0, 0, 0, 10<<20)},
	}}
	s := summarize(res)[0]
	if !near(s.CoresPer1k, 0.9) || !near(s.UserPer1k, 0.6) || !near(s.SysPer1k, 0.3) || !near(s.AnonMiB, 12) {
		t.Errorf("cores/1k %v, user/1k %v, sys/1k %v, anon %v MiB; want 0.9, 0.6, 0.3, 12", s.CoresPer1k, s.UserPer1k, s.SysPer1k, s.AnonMiB)
	}
}

func TestRatios(t *testing.T) {
	rs := ratios(summarize(twoRounds()))
	if len(rs) != 1 {
		t.Fatalf("%d ratios, want 1 (waypoint/1 against haproxy-http/1)", len(rs))
	}
	r := rs[0]
	for name, got := range map[string][2]float64{
		"added p50":    {r.AddedP50, 2.2},
		"added p99":    {r.AddedP99, 6},
		"cores/1k":     {r.CoresPer1k, 2.5},
		"user/1k":      {r.UserPer1k, 0.165 / 0.045},
		"sys/1k":       {r.SysPer1k, 0.085 / 0.055},
		"cores/1k@max": {r.CoresPer1kMax, 2}, // 0.1 against 0.05
		"peak RSS":     {r.PeakRSS, 32.0 / 15},
		"max req/s":    {r.MaxRate, 0.9},
	} {
		if !near(got[0], got[1]) {
			t.Errorf("%s ratio %v, want %v", name, got[0], got[1])
		}
	}
	if r.Peer != kindHAProxyHTTP || r.Workers != 1 {
		t.Errorf("ratio against %s/%d", r.Peer, r.Workers)
	}
}

// TestRatioUndefined: a peer figure of zero, or a waypoint faster than direct, gives no ratio
// rather than a misleading one.
func TestRatioUndefined(t *testing.T) {
	for _, tt := range [][2]float64{{1, 0}, {1, -5}, {-1, 5}} {
		if r := ratio(tt[0], tt[1]); !math.IsNaN(r) {
			t.Errorf("ratio(%v, %v) = %v, want NaN", tt[0], tt[1], r)
		}
	}
	// A peer whose system time rounds to no tick has no sys/1k ratio; its user/1k one stands.
	res := twoRounds()
	for _, round := range res.Rounds {
		round[2].CPU, round[2].System = round[2].User, 0
	}
	if r := ratios(summarize(res))[0]; !math.IsNaN(r.SysPer1k) || math.IsNaN(r.UserPer1k) {
		t.Errorf("peer with no system time: sys/1k ratio %v, user/1k %v; want n/a and a figure", r.SysPer1k, r.UserPer1k)
	}
	if times(math.NaN()) != "n/a" || times(1.234) != "1.23×" {
		t.Errorf("times: %q %q", times(math.NaN()), times(1.234))
	}
}

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		xs   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tt.xs); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.xs, got, tt.want)
		}
	}
}

func TestRoundOrderAlternates(t *testing.T) {
	if got := roundOrder(3, 0); got[0] != 0 || got[2] != 2 {
		t.Errorf("round 0 order %v", got)
	}
	if got := roundOrder(3, 1); got[0] != 2 || got[2] != 0 {
		t.Errorf("round 1 order %v", got)
	}
}

func TestSummarizeCountsErrors(t *testing.T) {
	res := twoRounds()
	res.Rounds[1][2].Errors, res.Rounds[1][2].MaxErrors, res.Rounds[1][2].FirstError = 2, 1, errors.New("status 503")
	h := summarize(res)[2]
	if h.Errors != 3 || h.FirstError == nil {
		t.Errorf("errors %d, first %v; want 3 and the 503", h.Errors, h.FirstError)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9*max(1, math.Abs(b)) }

// TestSubjectsBaseline: a baseline waypoint is measured at each worker count and compared
// with like a peer.
func TestSubjectsBaseline(t *testing.T) {
	var names []string
	for _, s := range subjects([]int{1, 2}, true, false) {
		names = append(names, s.name())
	}
	want := "direct waypoint/1 waypoint-base/1 haproxy-http/1 haproxy-tcp/1 nginx/1 waypoint/2 waypoint-base/2 haproxy-http/2 haproxy-tcp/2 nginx/2"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("subjects = %s\nwant       %s", got, want)
	}
	if n := len(subjects([]int{1}, false, false)); n != 5 {
		t.Fatalf("%d subjects without a baseline, want 5", n)
	}
	names = nil
	for _, s := range subjects([]int{1, 2}, true, true) {
		names = append(names, s.name())
	}
	want = "direct waypoint/1 waypoint-base/1 haproxy-http/1 haproxy-tcp/1 nginx/1 " +
		"waypoint-h2/1 waypoint-base-h2/1 waypoint-h3/1 waypoint-base-h3/1 haproxy-tls/1 nginx-tls/1 " +
		"waypoint/2 waypoint-base/2 haproxy-http/2 haproxy-tcp/2 nginx/2 " +
		"waypoint-h2/2 waypoint-base-h2/2 waypoint-h3/2 waypoint-base-h3/2 haproxy-tls/2 nginx-tls/2"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("subjects with a baseline across networks = %s\nwant %s", got, want)
	}
	// Every subject, the baseline pairs included, is measured once in each round's order.
	for r := range 2 {
		seen := map[string]bool{}
		for _, i := range roundOrder(len(names), r) {
			seen[names[i]] = true
		}
		if len(seen) != len(names) {
			t.Errorf("round %d measures %d of %d subjects", r, len(seen), len(names))
		}
	}
	res := twoRounds()
	res.subjects = append(res.subjects, subject{kind: kindBaseline, workers: 1})
	for r := range res.Rounds {
		res.Rounds[r] = append(res.Rounds[r], res.Rounds[r][1]) // the same figures as the waypoint
	}
	rs := ratios(summarize(res))
	// Listed after haproxy-http here, the baseline's row still comes first, as in the table.
	if len(rs) != 2 || rs[0].Peer != kindBaseline || !near(rs[0].CoresPer1k, 1) || rs[1].Peer != kindHAProxyHTTP {
		t.Fatalf("ratios %+v, want the first against waypoint-base at 1×, then haproxy-http", rs)
	}
}

// TestSubjectsCross: the cross-network waypoints and their TLS peers follow the same-network
// subjects at each worker count, and --cross-network=false leaves them out.
func TestSubjectsCross(t *testing.T) {
	var names []string
	for _, s := range subjects([]int{1, 2}, false, true) {
		names = append(names, s.name())
	}
	want := "direct waypoint/1 haproxy-http/1 haproxy-tcp/1 nginx/1 waypoint-h2/1 waypoint-h3/1 haproxy-tls/1 nginx-tls/1 " +
		"waypoint/2 haproxy-http/2 haproxy-tcp/2 nginx/2 waypoint-h2/2 waypoint-h3/2 haproxy-tls/2 nginx-tls/2"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("subjects = %s\nwant       %s", got, want)
	}
	for _, s := range subjects([]int{1, 2}, true, false) {
		if s.isCrossWaypoint() || s.isCrossPeer() {
			t.Errorf("--cross-network=false still has %s", s.name())
		}
	}
	if !DefaultFlags().CrossNetwork {
		t.Error("the cross-network subjects are not measured by default")
	}
}

// crossRounds: twoRounds with waypoint-h2/1, waypoint-h3/1, haproxy-tls/1 and nginx-tls/1
// added, with known figures (the cross-network waypoints' each twice haproxy-tls's).
func crossRounds() Result {
	res := twoRounds()
	m := measurement
	res.subjects = append(res.subjects, subject{kind: kindWaypointH2, workers: 1}, subject{kind: kindWaypointH3, workers: 1},
		subject{kind: kindHAProxyTLS, workers: 1}, subject{kind: kindNginxTLS, workers: 1})
	for r, d := range []time.Duration{100 * us, 120 * us} { // direct's p50 in each round
		tls := m(d+200*us, 1000*us, 0.6, 0.4, 1.0, 5000, 30<<20, 10<<20)
		wp := m(d+400*us, 2000*us, 1.2, 0.8, 2.0, 4000, 60<<20, 20<<20)
		res.Rounds[r] = append(res.Rounds[r], wp, wp, tls, tls)
	}
	return res
}

// TestRatiosCross: each cross-network waypoint is compared with the TLS peers only, after the
// same-network waypoint's ratios, which stay as they were.
func TestRatiosCross(t *testing.T) {
	rs := ratios(summarize(crossRounds()))
	var got []string
	for _, r := range rs {
		got = append(got, string(r.Waypoint)+" / "+string(r.Peer))
	}
	want := "waypoint / haproxy-http, waypoint-h2 / haproxy-tls, waypoint-h2 / nginx-tls, waypoint-h3 / haproxy-tls, waypoint-h3 / nginx-tls"
	if strings.Join(got, ", ") != want {
		t.Fatalf("ratios %s\nwant   %s", strings.Join(got, ", "), want)
	}
	if same := ratios(summarize(twoRounds()))[0]; rs[0] != same {
		t.Errorf("the same-network ratio changed with the cross-network subjects: %+v, was %+v", rs[0], same)
	}
	for _, r := range rs[1:] {
		if r.Workers != 1 || !near(r.AddedP50, 2) || !near(r.CoresPer1k, 2) || !near(r.UserPer1k, 2) || !near(r.SysPer1k, 2) ||
			!near(r.PeakRSS, 2) || !near(r.MaxRate, 0.8) || !near(r.CoresPer1kMax, 2.5) {
			t.Errorf("%s / %s: %+v; want 2× but max rate 0.8× and cores/1k@max 2.5×", r.Waypoint, r.Peer, r)
		}
	}
}

// crossBaselineRounds: crossRounds with the baseline pairs waypoint-base-h2/1 and
// waypoint-base-h3/1 added after the TLS peers, each with half the figures of the pair it is
// the baseline of (added p50 200µs, 1.0 CPU s, 30 MiB, 8,000 req/s at max).
func crossBaselineRounds() Result {
	res := crossRounds()
	m := measurement
	res.subjects = append(res.subjects, subject{kind: kindBaselineH2, workers: 1}, subject{kind: kindBaselineH3, workers: 1})
	for r, d := range []time.Duration{100 * us, 120 * us} {
		base := m(d+200*us, 1000*us, 0.6, 0.4, 1.0, 8000, 30<<20, 10<<20)
		res.Rounds[r] = append(res.Rounds[r], base, base)
	}
	return res
}

// TestRatiosCrossBaseline: with the baseline pairs measured, each cross-network pair is
// compared first with its own baseline pair, then with the TLS peers as before; the
// same-network ratios and the baseline pairs' figures are not compared with anything else.
func TestRatiosCrossBaseline(t *testing.T) {
	rs := ratios(summarize(crossBaselineRounds()))
	var got []string
	for _, r := range rs {
		got = append(got, string(r.Waypoint)+" / "+string(r.Peer))
	}
	want := "waypoint / haproxy-http, waypoint-h2 / waypoint-base-h2, waypoint-h2 / haproxy-tls, waypoint-h2 / nginx-tls, " +
		"waypoint-h3 / waypoint-base-h3, waypoint-h3 / haproxy-tls, waypoint-h3 / nginx-tls"
	if strings.Join(got, ", ") != want {
		t.Fatalf("ratios %s\nwant   %s", strings.Join(got, ", "), want)
	}
	without := ratios(summarize(crossRounds()))
	for i, r := range []Ratio{rs[0], rs[2], rs[3], rs[5], rs[6]} {
		if r != without[i] {
			t.Errorf("ratio %s / %s changed with the baseline pairs: %+v, was %+v", r.Waypoint, r.Peer, r, without[i])
		}
	}
	for _, r := range []Ratio{rs[1], rs[4]} {
		if r.Workers != 1 || !near(r.AddedP50, 2) || !near(r.CoresPer1k, 2) || !near(r.PeakRSS, 2) || !near(r.MaxRate, 0.5) || !near(r.CoresPer1kMax, 4) {
			t.Errorf("%s / %s: %+v; want 2× but max rate 0.5× and cores/1k@max 4×", r.Waypoint, r.Peer, r)
		}
	}
}
