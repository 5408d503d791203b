package controller

import (
	"testing"
	"time"
)

// TestDebounceLeft: a burst waits Debounce from its first event, counting the time it already
// waited while a pass ran, never longer and never less than nothing.
func TestDebounceLeft(t *testing.T) {
	const d = 20 * time.Millisecond
	now := time.Unix(1000, 0)
	at := func(ago time.Duration) int64 { return now.Add(-ago).UnixNano() }
	for _, tc := range []struct {
		name  string
		woken int64
		want  time.Duration
	}{
		{"first event unknown", 0, d},
		{"event just now", at(0), d},
		{"event during a pass 5ms ago", at(5 * time.Millisecond), 15 * time.Millisecond},
		{"event exactly Debounce ago", at(d), 0},
		{"event during a long pass", at(300 * time.Millisecond), 0},
		{"clock stepped back: event in the future", at(-time.Second), d},
	} {
		if got := debounceLeft(d, tc.woken, now); got != tc.want {
			t.Errorf("%s: debounceLeft = %v, want %v", tc.name, got, tc.want)
		}
	}
}
