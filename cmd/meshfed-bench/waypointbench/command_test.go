package waypointbench

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/loadgen"
)

// TestCommandSmoke runs the whole command with a tiny load: it builds meshfed-waypoint, starts
// the store, the reference relay and five waypoint processes, and every path must answer without an error. It
// checks the table's shape, not the figures (the CI machine is shared).
func TestCommandSmoke(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	cmd := NewCommand(&out, slog.New(slog.DiscardHandler))
	cmd.SetArgs([]string{"--rate", "50", "--warmup", "200ms", "--duration", "1s", "--concurrency", "2", "--max-duration", "200ms"})
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatalf("waypoint benchmark: %v\n%s", err, out.String())
	}
	table := out.String()
	for _, row := range []string{"\ndirect ", "\nrelay ", "\nsame-network ", "\ncross-network/h2 ", "\ncross-network/h3 ",
		"\nA-same ", "\nA-h2 ", "\nB ", "\nA-h3 ", "\nC ", "same-network adds", "bare TCP relay adds", "cores per 1,000 req/s", "peak RSS"} {
		if !strings.Contains(table, row) {
			t.Errorf("table has no %q row:\n%s", strings.TrimSpace(row), table)
		}
	}
	if strings.Contains(table, "first error") {
		t.Errorf("requests failed:\n%s", table)
	}
}

func TestFlagsValidate(t *testing.T) {
	ok := DefaultFlags()
	if err := ok.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for name, mod := range map[string]func(*Flags){
		"zero rate":        func(f *Flags) { f.Rate = 0 },
		"rate too high":    func(f *Flags) { f.Rate = 1e6 },
		"zero duration":    func(f *Flags) { f.Duration = 0 },
		"no clients":       func(f *Flags) { f.Concurrency = 0 },
		"too many clients": func(f *Flags) { f.Concurrency = 5000 },
		"too many requests": func(f *Flags) {
			f.Rate, f.Duration = loadgen.MaxRate, time.Hour
		},
	} {
		f := DefaultFlags()
		mod(&f)
		if err := f.Validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestChecks: the marks follow the measured figures; the relay is a reference, not checked.
func TestChecks(t *testing.T) {
	res := Result{Paths: []PathResult{
		{Name: "direct", Latencies: loadgen.Latencies{P50: 100 * time.Microsecond, P99: time.Millisecond, Rate: 1000}},
		{Name: "relay", Latencies: loadgen.Latencies{P50: 250 * time.Microsecond, P99: 1200 * time.Microsecond, Rate: 1000},
			Waypoints: []Usage{{Name: "relay", CPU: 1.5, Window: 10 * time.Second, HWM: 5 << 20}}},
		{Name: "same-network", Latencies: loadgen.Latencies{P50: 300 * time.Microsecond, P99: 1500 * time.Microsecond, Rate: 1000},
			Waypoints: []Usage{{Name: "A-same", CPU: 0.5, Window: 10 * time.Second, HWM: 50 << 20}}},
	}}
	got := strings.Join(checks(res), "\n")
	for _, want := range []string{
		"✗ same-network adds +200µs to p50", // over 150µs
		"✓ same-network adds +500µs to p99", // within 1ms
		"✓ A-same (same-network) uses 0.050 cores per 1,000 req/s",
		"✗ A-same (same-network) peak RSS 50.0 MiB",
		"· reference: the bare TCP relay adds +150µs to p50 and +200µs to p99 over direct and uses 0.150 cores",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("checks lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "relay (relay)") {
		t.Errorf("the relay is checked against the waypoint targets:\n%s", got)
	}
}
