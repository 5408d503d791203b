package waypointbench

import (
	"errors"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		out := make([]time.Duration, len(n))
		for i, v := range n {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", ms(7), 99, 7 * time.Millisecond},
		{"p50 of 1..100", hundred, 50, 50 * time.Millisecond},
		{"p90 of 1..100", hundred, 90, 90 * time.Millisecond},
		{"p99 of 1..100", hundred, 99, 99 * time.Millisecond},
		{"max of 1..100", hundred, 100, 100 * time.Millisecond},
		{"p50 of four: nearest rank 2", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p99 of four is the max", ms(1, 2, 3, 4), 99, 4 * time.Millisecond},
		{"tiny p is the min", ms(1, 2, 3, 4), 0.1, 1 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("%s: percentile(p%v) = %v, want %v", tt.name, tt.p, got, tt.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	w := window{elapsed: 2 * time.Second, samples: []sample{
		{sent: true, latency: 3 * time.Millisecond, lag: time.Millisecond},
		{sent: true, latency: time.Millisecond},
		{sent: true, latency: 2 * time.Millisecond},
		{sent: true, latency: time.Hour, err: errors.New("status 503")}, // failed: not a latency
		{err: errNoSlot}, // never sent
	}}
	s := summarize(w)
	if s.Sent != 4 || s.Errors != 1 || s.Dropped != 1 || s.Rate != 2 {
		t.Fatalf("sent %d, errors %d, dropped %d, rate %v; want 4, 1, 1, 2", s.Sent, s.Errors, s.Dropped, s.Rate)
	}
	if s.P50 != 2*time.Millisecond || s.Max != 3*time.Millisecond || s.LagP99 != time.Millisecond {
		t.Fatalf("p50 %v, max %v, lag p99 %v", s.P50, s.Max, s.LagP99)
	}
	if s.FirstError == nil || s.FirstError.Error() != "status 503" {
		t.Fatalf("first error %v", s.FirstError)
	}
}
