package peersbench

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/loadgen"
)

// TestCommandSmoke runs one tiny round through the real haproxy and nginx (installing them
// when missing and root, as the command does) and real waypoints, on the same-network path
// and across networks (HBONE h2 and h3, the peers' TLS hop). It checks every row, that no
// request failed, and that the figures agree with one another, not the figures.
func TestCommandSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a store, a waypoint, haproxy and nginx: not with -short")
	}
	if _, missing := lookPeers(); len(missing) > 0 && os.Geteuid() != 0 {
		t.Skipf("%v not installed and not root to install them: apt-get install -y haproxy nginx-light", missing)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 6*time.Minute)
	defer cancel()
	var out bytes.Buffer
	cmd := NewCommand(&out, slog.New(slog.DiscardHandler))
	cmd.SetArgs([]string{"--rate", "50", "--warmup", "200ms", "--duration", "1s", "--concurrency", "2", "--max-duration", "200ms", "--rounds", "1", "--workers", "1"})
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatalf("peers benchmark: %v\n%s", err, out.String())
	}
	table := out.String()
	for _, row := range []string{"\ndirect ", "\nwaypoint/1 ", "\nhaproxy-http/1 ", "\nhaproxy-tcp/1 ", "\nnginx/1 ",
		"/ haproxy-http, workers 1", "/ haproxy-tcp, workers 1", "/ nginx, workers 1"} {
		if !strings.Contains(table, row) {
			t.Errorf("table has no %q row:\n%s", strings.TrimSpace(row), table)
		}
	}
	if strings.Contains(table, "first error") {
		t.Errorf("requests failed:\n%s", table)
	}
	rows := []string{"direct", "waypoint/1", "haproxy-http/1", "haproxy-tcp/1", "nginx/1", "waypoint-h2/1", "waypoint-h3/1", "haproxy-tls/1", "nginx-tls/1"}
	for _, row := range rows {
		if got := cell(table, "proxy ", row, "errors"); got != "0" {
			t.Errorf("%s: errors %q, want a row with 0\n%s", row, got, table)
		}
	}
	for _, row := range rows[1:] {
		checkSplits(t, table, row)
	}
	for _, header := range []string{"waypoint-h2 / TLS peer ", "waypoint-h3 / TLS peer "} {
		for _, row := range []string{"/ haproxy-tls, workers 1", "/ nginx-tls, workers 1"} {
			if cell(table, header, row, "cores/1k rps") == "" {
				t.Errorf("no %q row under %q:\n%s", row, header, table)
			}
		}
	}
}

// checkSplits: in one round user/1k and sys/1k add up to cores/1k rps (each rounded to
// 0.001), and the anonymous RSS is some of the peak's.
func checkSplits(t *testing.T, table, row string) {
	t.Helper()
	fig := map[string]float64{}
	for _, col := range []string{"cores/1k rps", "user/1k", "sys/1k", "peak MiB", "anon MiB"} {
		v, err := strconv.ParseFloat(cell(table, "proxy ", row, col), 64)
		if err != nil {
			t.Errorf("%s, %s: %v\n%s", row, col, err, table)
			return
		}
		fig[col] = v
	}
	if d := fig["user/1k"] + fig["sys/1k"] - fig["cores/1k rps"]; math.Abs(d) > 0.0015 {
		t.Errorf("%s: user/1k %v + sys/1k %v is not cores/1k rps %v\n%s", row, fig["user/1k"], fig["sys/1k"], fig["cores/1k rps"], table)
	}
	if fig["anon MiB"] <= 0 || fig["anon MiB"] > fig["peak MiB"] {
		t.Errorf("%s: anon %v MiB, peak %v MiB\n%s", row, fig["anon MiB"], fig["peak MiB"], table)
	}
}

// TestPrintTables reads the known figures of twoRounds back from the tables, each under its
// column's header.
func TestPrintTables(t *testing.T) {
	var out bytes.Buffer
	PrintTables(&out, twoRounds())
	table := out.String()
	const abs, rel = "proxy ", "waypoint / peer "
	for _, c := range []struct{ header, row, column, want string }{
		{abs, "waypoint/1", "cores/1k rps", "0.250"},
		{abs, "waypoint/1", "user/1k", "0.165"},
		{abs, "waypoint/1", "sys/1k", "0.085"},
		{abs, "waypoint/1", "cores/1k@max", "0.100"},
		{abs, "waypoint/1", "peak MiB", "32.0"},
		{abs, "waypoint/1", "anon MiB", "9.0"},
		{abs, "waypoint/1", "max req/s", "9000"},
		{abs, "haproxy-http/1", "user/1k", "0.045"},
		{abs, "haproxy-http/1", "sys/1k", "0.055"},
		{abs, "haproxy-http/1", "anon MiB", "4.0"},
		{abs, "direct", "user/1k", "-"},
		{abs, "direct", "sys/1k", "-"},
		{abs, "direct", "anon MiB", "-"},
		{rel, "/ haproxy-http, workers 1", "cores/1k rps", "2.50×"},
		{rel, "/ haproxy-http, workers 1", "user/1k", "3.67×"},
		{rel, "/ haproxy-http, workers 1", "sys/1k", "1.55×"},
		{rel, "/ haproxy-http, workers 1", "cores/1k@max", "2.00×"},
	} {
		if got := cell(table, c.header, c.row, c.column); got != c.want {
			t.Errorf("%s, %s = %q, want %q\n%s", c.row, c.column, got, c.want, table)
		}
	}
	for _, order := range []string{
		"lag p99 cores/1k rps user/1k  sys/1k  cores/1k@max peak MiB anon MiB  max req/s",
		"cores/1k rps  user/1k   sys/1k  cores/1k@max  peak RSS",
	} {
		if !strings.Contains(table, order) {
			t.Errorf("no header %q:\n%s", order, table)
		}
	}
}

// cell is the figure in the line starting with row under column of the header line starting
// with header above it: the tables right-align, so it ends where the column's name ends.
func cell(table, header, row, column string) string {
	var end int
	for line := range strings.Lines(table) {
		if strings.HasPrefix(line, header) {
			end = -1
			if i := strings.Index(line, column); i >= 0 {
				end = len([]rune(line[:i+len(column)]))
			}
			continue
		}
		r := []rune(strings.TrimRight(line, "\n"))
		if !strings.HasPrefix(line, row+" ") || end <= 0 || end > len(r) || (end < len(r) && r[end] != ' ') {
			continue
		}
		if f := strings.Fields(string(r[:end])); len(f) > 0 {
			return f[len(f)-1]
		}
	}
	return ""
}

func TestFlagsValidate(t *testing.T) {
	ok := DefaultFlags()
	if err := ok.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for name, mod := range map[string]func(*Flags){
		"zero rate":        func(f *Flags) { f.Rate = 0 },
		"no rounds":        func(f *Flags) { f.Rounds = 0 },
		"too many rounds":  func(f *Flags) { f.Rounds = maxRounds + 1 },
		"no workers":       func(f *Flags) { f.Workers = nil },
		"zero workers":     func(f *Flags) { f.Workers = []int{0} },
		"too many workers": func(f *Flags) { f.Workers = []int{maxWorkers + 1} },
		"repeated workers": func(f *Flags) { f.Workers = []int{1, 1} },
		"no clients":       func(f *Flags) { f.Concurrency = 0 },
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

// TestPrintTablesCross: each cross-network waypoint's ratios come under a header of their
// own, after the same-network waypoint's, whose rows are as without them.
func TestPrintTablesCross(t *testing.T) {
	var out, same bytes.Buffer
	PrintTables(&out, crossRounds())
	PrintTables(&same, twoRounds())
	table := out.String()
	for _, c := range []struct{ header, row, column, want string }{
		{"proxy ", "waypoint-h2/1", "cores/1k rps", "0.200"},
		{"proxy ", "haproxy-tls/1", "peak MiB", "30.0"},
		{"waypoint / peer ", "/ haproxy-http, workers 1", "cores/1k rps", "2.50×"},
		{"waypoint-h2 / TLS peer ", "/ haproxy-tls, workers 1", "cores/1k rps", "2.00×"},
		{"waypoint-h2 / TLS peer ", "/ nginx-tls, workers 1", "max req/s", "0.80×"},
		{"waypoint-h3 / TLS peer ", "/ nginx-tls, workers 1", "cores/1k@max", "2.50×"},
	} {
		if got := cell(table, c.header, c.row, c.column); got != c.want {
			t.Errorf("%s under %q, %s = %q, want %q\n%s", c.row, c.header, c.column, got, c.want, table)
		}
	}
	_, got, _ := strings.Cut(table, "\nwaypoint / peer")
	_, was, _ := strings.Cut(same.String(), "\nwaypoint / peer")
	if was == "" || !strings.HasPrefix(got, strings.TrimSuffix(was, "\n")) {
		t.Errorf("the same-network ratios changed:\n%s\nwas\n%s", table, same.String())
	}
}

// TestPrintTablesCrossBaseline: the baseline pairs have rows of their own, in a first column
// widened to their names, and each cross-network pair's block starts with its ratio to its
// baseline pair; without them the tables have neither and the first column stays as it was.
func TestPrintTablesCrossBaseline(t *testing.T) {
	var out, without bytes.Buffer
	PrintTables(&out, crossBaselineRounds())
	PrintTables(&without, crossRounds())
	table := out.String()
	for _, c := range []struct{ header, row, column, want string }{
		{"proxy ", "waypoint-base-h2/1", "cores/1k rps", "0.100"},
		{"proxy ", "waypoint-base-h3/1", "errors", "0"},
		{"proxy ", "waypoint-h2/1", "cores/1k rps", "0.200"},
		{"waypoint-h2 / TLS peer ", "/ waypoint-base-h2, workers 1", "cores/1k rps", "2.00×"},
		{"waypoint-h2 / TLS peer ", "/ haproxy-tls, workers 1", "cores/1k rps", "2.00×"},
		{"waypoint-h3 / TLS peer ", "/ waypoint-base-h3, workers 1", "max req/s", "0.50×"},
		{"waypoint-h3 / TLS peer ", "/ nginx-tls, workers 1", "max req/s", "0.80×"},
	} {
		if got := cell(table, c.header, c.row, c.column); got != c.want {
			t.Errorf("%s under %q, %s = %q, want %q\n%s", c.row, c.header, c.column, got, c.want, table)
		}
	}
	for _, t3 := range []string{"h2", "h3"} {
		_, block, _ := strings.Cut(table, "\nwaypoint-"+t3+" / TLS peer")
		if _, first, _ := strings.Cut(block, "\n"); !strings.HasPrefix(first, "/ waypoint-base-"+t3+", workers 1 ") {
			t.Errorf("the waypoint-%s block does not start with its baseline pair's row:\n%s", t3, table)
		}
	}
	if n := strings.Count(table, "waypoint-base-h2"); n != 2 { // its row and its ratio row
		t.Errorf("waypoint-base-h2 named %d times, want 2:\n%s", n, table)
	}
	if strings.Contains(without.String(), "waypoint-base") || !strings.Contains(without.String(), fmt.Sprintf("\n%-15s %8s ", "proxy", "req/s")) {
		t.Errorf("without a baseline:\n%s", without.String())
	}
}
