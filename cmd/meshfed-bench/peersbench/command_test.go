package peersbench

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/loadgen"
)

// TestCommandSmoke runs one tiny round through the real haproxy and nginx (installing them
// when missing and root, as the command does) and a real waypoint. It checks every row and
// that no request failed, not the figures.
func TestCommandSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a store, a waypoint, haproxy and nginx: not with -short")
	}
	if _, missing := lookPeers(); len(missing) > 0 && os.Geteuid() != 0 {
		t.Skipf("%v not installed and not root to install them: apt-get install -y haproxy nginx-light", missing)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
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
