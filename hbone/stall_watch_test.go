package hbone

import (
	"testing"
	"time"
)

// TestAckWatchObserve follows connections through sample sequences, one sample per 300 ms
// tick with a 1.5 s bound: silence counts from the later of the last acknowledgement and the
// first sample of a run with unacknowledged data, and only a fired retransmission timeout
// turns a long silence into a stall.
func TestAckWatchObserve(t *testing.T) {
	const bound, tick = 1500 * time.Millisecond, 300 * time.Millisecond
	type step struct {
		s           ackSample
		wantSilent  time.Duration
		wantStalled bool
	}
	dead := func(sinceAck time.Duration) ackSample {
		return ackSample{unacked: 3, sinceAck: sinceAck, timedOut: true}
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"nothing unacknowledged", []step{
			{ackSample{sinceAck: time.Hour, timedOut: true}, 0, false},
			{ackSample{sinceAck: time.Hour, timedOut: true}, 0, false},
		}},
		{"dead after a long idle: silence counts from the first sample", []step{
			{dead(time.Minute), 0, false},
			{dead(time.Minute), tick, false},
			{dead(time.Minute), 2 * tick, false},
			{dead(time.Minute), 3 * tick, false},
			{dead(time.Minute), 4 * tick, false},
			{dead(time.Minute), 5 * tick, true},
		}},
		{"acknowledgements keep coming: never stalled", []step{
			{dead(10 * time.Millisecond), 0, false},
			{dead(20 * time.Millisecond), 20 * time.Millisecond, false},
			{dead(250 * time.Millisecond), 250 * time.Millisecond, false},
			{dead(5 * time.Millisecond), 5 * time.Millisecond, false},
			{dead(290 * time.Millisecond), 290 * time.Millisecond, false},
			{dead(100 * time.Millisecond), 100 * time.Millisecond, false},
			{dead(100 * time.Millisecond), 100 * time.Millisecond, false},
		}},
		{"the last acknowledgement inside the run bounds the silence", []step{
			{dead(time.Minute), 0, false},
			{dead(50 * time.Millisecond), 50 * time.Millisecond, false},
			{dead(350 * time.Millisecond), 350 * time.Millisecond, false},
			{dead(650 * time.Millisecond), 650 * time.Millisecond, false},
			{dead(950 * time.Millisecond), 950 * time.Millisecond, false},
			{dead(1250 * time.Millisecond), 1250 * time.Millisecond, false},
			{dead(1550 * time.Millisecond), 1550 * time.Millisecond, true},
		}},
		{"no retransmission timeout: a long round trip, not a stall", []step{
			{ackSample{unacked: 1, sinceAck: time.Minute}, 0, false},
			{ackSample{unacked: 1, sinceAck: time.Minute}, tick, false},
			{ackSample{unacked: 1, sinceAck: time.Minute}, 2 * tick, false},
			{ackSample{unacked: 1, sinceAck: time.Minute}, 3 * tick, false},
			{ackSample{unacked: 1, sinceAck: time.Minute}, 4 * tick, false},
			{ackSample{unacked: 1, sinceAck: time.Minute}, 5 * tick, false},
			{ackSample{unacked: 1, sinceAck: time.Minute}, 6 * tick, false},
			{dead(time.Minute), 7 * tick, true},
		}},
		{"everything acknowledged ends the run", []step{
			{dead(time.Minute), 0, false},
			{dead(time.Minute), tick, false},
			{dead(time.Minute), 2 * tick, false},
			{dead(time.Minute), 3 * tick, false},
			{ackSample{sinceAck: time.Minute}, 0, false},
			{dead(time.Minute), 0, false},
			{dead(time.Minute), tick, false},
		}},
		{"zero window: the peer acknowledges probes, nothing is unacknowledged", []step{
			{ackSample{sinceAck: 200 * time.Millisecond, timedOut: false}, 0, false},
			{ackSample{sinceAck: 100 * time.Millisecond}, 0, false},
			{ackSample{sinceAck: 300 * time.Millisecond}, 0, false},
			{ackSample{sinceAck: 50 * time.Millisecond}, 0, false},
			{ackSample{sinceAck: 250 * time.Millisecond}, 0, false},
			{ackSample{sinceAck: 150 * time.Millisecond}, 0, false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w ackWatch
			now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
			for i, st := range tt.steps {
				silent, stalled := w.observe(now, st.s, bound)
				if silent != st.wantSilent || stalled != st.wantStalled {
					t.Fatalf("step %d (%+v): observe = %s, %v; want %s, %v", i, st.s, silent, stalled, st.wantSilent, st.wantStalled)
				}
				now = now.Add(tick)
			}
		})
	}
}

// TestStallTimeoutOption: zero takes the default, a negative value turns the watcher off and
// a positive value below Linux's minimum retransmission timeout is refused.
func TestStallTimeoutOption(t *testing.T) {
	src := newTestPKI(t, testTrustDomain).source(t, "ns1", "client")
	tests := []struct {
		set     time.Duration
		want    time.Duration // the pool's; 0: no watcher
		wantErr bool
	}{
		{0, DefaultStallTimeout, false},
		{-1, 0, false},
		{100 * time.Millisecond, 0, true},
		{200 * time.Millisecond, 200 * time.Millisecond, false},
		{5 * time.Second, 5 * time.Second, false},
	}
	for _, tt := range tests {
		d, err := NewDialer(Options{Source: src, Logger: quietLogger, StallTimeout: tt.set})
		if tt.wantErr {
			if err == nil {
				d.Close()
				t.Errorf("StallTimeout %s: no error", tt.set)
			}
			continue
		}
		if err != nil {
			t.Fatalf("StallTimeout %s: %v", tt.set, err)
		}
		if got := d.pool.stallTimeout; got != tt.want {
			t.Errorf("StallTimeout %s: the pool watches with %s, want %s", tt.set, got, tt.want)
		}
		d.Close()
	}
}
