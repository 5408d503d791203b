package loadgen

import (
	"strings"
	"testing"
	"time"
)

func TestPhasesValidate(t *testing.T) {
	good := Phases{Rate: 1000, Warmup: time.Second, Duration: 10 * time.Second, Concurrency: 32, MaxDuration: 3 * time.Second}
	if err := good.Validate(); err != nil {
		t.Fatalf("good phases: %v", err)
	}
	for name, tc := range map[string]struct {
		mod  func(*Phases)
		flag string
	}{
		"zero rate":         {func(p *Phases) { p.Rate = 0 }, "--rate"},
		"rate too high":     {func(p *Phases) { p.Rate = MaxRate + 1 }, "--rate"},
		"negative warmup":   {func(p *Phases) { p.Warmup = -time.Second }, "--warmup"},
		"zero duration":     {func(p *Phases) { p.Duration = 0 }, "--duration"},
		"zero max duration": {func(p *Phases) { p.MaxDuration = 0 }, "--max-duration"},
		"no clients":        {func(p *Phases) { p.Concurrency = 0 }, "--concurrency"},
		"too many clients":  {func(p *Phases) { p.Concurrency = MaxConcurrency + 1 }, "--concurrency"},
		"too many requests": {func(p *Phases) { p.Rate, p.Duration = MaxRate, time.Hour }, "requests"},
	} {
		p := good
		tc.mod(&p)
		err := p.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.flag) {
			t.Errorf("%s: error %v, want one naming %s", name, err, tc.flag)
		}
	}
}
