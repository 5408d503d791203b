package loadgen

import (
	"errors"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	w := Window{Elapsed: 2 * time.Second, Samples: []Sample{
		{sent: true, latency: 3 * time.Millisecond, lag: time.Millisecond},
		{sent: true, latency: time.Millisecond},
		{sent: true, latency: 2 * time.Millisecond},
		{sent: true, latency: time.Hour, err: errors.New("status 503")}, // failed: not a latency
		{err: ErrNoSlot}, // never sent
	}}
	s := Summarize(w)
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
