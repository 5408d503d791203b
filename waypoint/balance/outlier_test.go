package balance

import (
	"strconv"
	"testing"
	"time"
)

func TestPoolEjection(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	base := DefaultBaseEjectionTime
	tests := []struct {
		name  string
		opts  OutlierOptions
		hosts int
		// run fails host 0 (and, with failOthers, hosts 1..) and returns what to check.
		steps []step
	}{
		{
			name: "five consecutive failures eject for the base time", hosts: 4,
			steps: []step{{host: 0, fails: 4}, {host: 0, fails: 1, wantEjected: true, wantUntil: base}},
		},
		{
			name: "a success breaks the run", hosts: 4,
			steps: []step{{host: 0, fails: 4}, {host: 0, success: true}, {host: 0, fails: 4}, {host: 0, fails: 1, wantEjected: true, wantUntil: base}},
		},
		{
			name: "the second ejection lasts twice as long", hosts: 4,
			steps: []step{
				{host: 0, fails: 5, wantEjected: true, wantUntil: base},
				{advance: base},
				{host: 0, fails: 5, wantEjected: true, wantUntil: 2 * base},
			},
		},
		{
			name: "the ejection time is capped", hosts: 4, opts: OutlierOptions{MaxEjectionTime: 45 * time.Second},
			steps: []step{
				{host: 0, fails: 5, wantEjected: true, wantUntil: base},
				{advance: base},
				{host: 0, fails: 5, wantEjected: true, wantUntil: 45 * time.Second},
			},
		},
		{
			name: "the multiplier decays while unejected", hosts: 4,
			steps: []step{
				{host: 0, fails: 5, wantEjected: true, wantUntil: base},
				{advance: base + 2*base}, // two base times after the ejection ended
				{host: 0, fails: 5, wantEjected: true, wantUntil: base},
			},
		},
		{
			name: "at least one host is ejected even at 10% of 4", hosts: 4,
			steps: []step{
				{host: 0, fails: 5, wantEjected: true, wantUntil: base},
				{host: 1, fails: 10, wantEjected: false},
				{advance: base},
				{host: 1, fails: 1, wantEjected: true, wantUntil: base}, // the run kept counting
			},
		},
		{
			name: "max ejection percent allows two of twenty at 10%", hosts: 20,
			steps: []step{
				{host: 0, fails: 5, wantEjected: true, wantUntil: base},
				{host: 1, fails: 5, wantEjected: true, wantUntil: base},
				{host: 2, fails: 5, wantEjected: false},
			},
		},
		{
			name: "custom threshold", hosts: 2, opts: OutlierOptions{ConsecutiveFailures: 2, BaseEjectionTime: time.Second},
			steps: []step{{host: 0, fails: 2, wantEjected: true, wantUntil: time.Second}},
		},
		{
			name: "disabled", hosts: 2, opts: OutlierOptions{Disabled: true},
			steps: []step{{host: 0, fails: 50, wantEjected: false}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPool(tt.opts.WithDefaults())
			hosts := make([]*Host, tt.hosts)
			for i := range hosts {
				addr := "127.0.0.1:" + strconv.Itoa(1000+i)
				hosts[i] = p.Host(HostKey("east", addr), "east", addr)
			}
			now := t0
			for i, s := range tt.steps {
				if s.advance > 0 {
					now = now.Add(s.advance)
					continue
				}
				h := hosts[s.host]
				if s.success {
					p.Success(h)
					continue
				}
				ejected := false
				for range s.fails {
					ejected = p.Failure(h, now) || ejected
				}
				if ejected != s.wantEjected {
					t.Fatalf("step %d: ejected = %v, want %v", i, ejected, s.wantEjected)
				}
				if s.wantEjected {
					if got := p.EjectedUntil(h, now); !got.Equal(now.Add(s.wantUntil)) {
						t.Fatalf("step %d: ejected until %s, want +%s", i, got.Sub(now), s.wantUntil)
					}
					if !p.EjectedUntil(h, now.Add(s.wantUntil)).IsZero() {
						t.Fatalf("step %d: still ejected when the time has passed", i)
					}
				}
			}
		})
	}
}

// step is one action of TestPoolEjection.
type step struct {
	host        int
	fails       int
	success     bool
	advance     time.Duration
	wantEjected bool
	wantUntil   time.Duration
}

func TestOutlierOptionsValidate(t *testing.T) {
	for _, o := range []OutlierOptions{{MaxEjectionPercent: 101}, {MaxEjectionPercent: -1}, {BaseEjectionTime: -time.Second}} {
		if err := o.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", o)
		}
	}
	if err := (&OutlierOptions{}).Validate(); err != nil {
		t.Errorf("Validate(zero) = %v", err)
	}
}
