package dnsbench

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestRunSmoke runs the whole benchmark small: 50 services, one round of 300 ms phases. It checks
// that both servers were measured, answered every query correctly and that the table has its
// rows, not the figures.
func TestRunSmoke(t *testing.T) {
	f := DefaultFlags()
	f.Services, f.Rounds, f.Duration, f.Warmup, f.Concurrency = 50, 1, 300*time.Millisecond, 50*time.Millisecond, 4
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	res, err := Run(t.Context(), f, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Servers {
		if len(s.Throughput) != 1 || len(s.Single) != 1 || s.Throughput[0].Queries == 0 || s.Single[0].Queries == 0 {
			t.Errorf("%s: phases %+v %+v", s.Name, s.Throughput, s.Single)
		}
		if n := errorsOf(s); n != 0 {
			t.Errorf("%s: %d failed queries, first: %v", s.Name, n, s.Throughput[0].FirstError)
		}
		if s.Memory.RSS == 0 {
			t.Errorf("%s: no RSS", s.Name)
		}
	}
	var out bytes.Buffer
	PrintTable(&out, res)
	for _, want := range []string{"meshfed-dns ", "coredns ", "meshfed-dns / coredns: qps ×", "per 10,000 services"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestFlagsValidate(t *testing.T) {
	for _, f := range []Flags{
		{Services: 0, Rounds: 1, Duration: time.Second, Concurrency: 1},
		{Services: 1, Rounds: 0, Duration: time.Second, Concurrency: 1},
		{Services: 1, Rounds: 1, Duration: 0, Concurrency: 1},
		{Services: 1, Rounds: 1, Duration: time.Second, Concurrency: 0},
		{Services: 1, Rounds: 1, Duration: time.Second, Concurrency: 1, Warmup: -1},
	} {
		if err := f.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted", f)
		}
	}
	f := DefaultFlags()
	if err := f.Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}
