package balance

import (
	"strconv"
	"testing"
	"time"
)

func TestPoolHTTPEjection(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	codes := func(code, n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = code
		}
		return out
	}
	cat := func(parts ...[]int) []int {
		var out []int
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name string
		opts OutlierOptions
		// codes are the responses of host 0 in order (0: a reset); ejectAt is the index of
		// the response that ejects it, -1 for none.
		codes   []int
		ejectAt int
	}{
		{name: "five 500s in a row", codes: codes(500, 5), ejectAt: 4},
		{name: "five 503s in a row", codes: codes(503, 5), ejectAt: 4},
		{name: "resets count as gateway errors", codes: codes(0, 5), ejectAt: 4},
		{name: "a 200 resets the runs", codes: cat(codes(500, 4), []int{200}, codes(500, 4)), ejectAt: -1},
		{name: "a 404 resets the runs", codes: cat(codes(503, 4), []int{404}, codes(503, 4)), ejectAt: -1},
		{
			name: "gateway errors enforced on their own", opts: OutlierOptions{Consecutive5xx: 10, ConsecutiveGatewayErrors: 3},
			codes: cat([]int{500}, codes(502, 3)), ejectAt: 3,
		},
		{
			name: "a 500 ends a gateway run", opts: OutlierOptions{Consecutive5xx: 10, ConsecutiveGatewayErrors: 3},
			codes: cat(codes(504, 2), []int{500}, codes(503, 3)), ejectAt: 5,
		},
		{
			name: "a 500 continues the 5xx run", opts: OutlierOptions{Consecutive5xx: 4, ConsecutiveGatewayErrors: 10},
			codes: cat(codes(503, 2), []int{500}, codes(503, 1)), ejectAt: 3,
		},
		{
			name: "5xx detector off", opts: OutlierOptions{Consecutive5xx: -1, ConsecutiveGatewayErrors: -1},
			codes: codes(500, 20), ejectAt: -1,
		},
		{name: "disabled", opts: OutlierOptions{Disabled: true}, codes: codes(503, 20), ejectAt: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPool(tt.opts.WithDefaults())
			hosts := make([]*Host, 4)
			for i := range hosts {
				addr := "127.0.0.1:" + strconv.Itoa(1000+i)
				hosts[i] = p.Host(HostKey("east", addr), "east", addr)
			}
			for i, code := range tt.codes {
				oc := OutcomeGateway
				if code != 0 {
					oc = OutcomeOf(code)
				}
				ejected := p.Response(hosts[0], oc, t0)
				if ejected != (i == tt.ejectAt) {
					t.Fatalf("response %d (%d): ejected = %v, want ejection at %d", i, code, ejected, tt.ejectAt)
				}
			}
			if tt.ejectAt >= 0 && !p.EjectedUntil(hosts[0], t0).Equal(t0.Add(DefaultBaseEjectionTime)) {
				t.Fatalf("ejected until %s, want +%s", p.EjectedUntil(hosts[0], t0), DefaultBaseEjectionTime)
			}
		})
	}
}

func TestPoolHTTPEjectionRespectsMaxPercent(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	p := NewPool(OutlierOptions{}.WithDefaults()) // 10%: one of four
	hosts := make([]*Host, 4)
	for i := range hosts {
		addr := "127.0.0.1:" + strconv.Itoa(1000+i)
		hosts[i] = p.Host(HostKey("east", addr), "east", addr)
	}
	for range DefaultConsecutive5xx {
		p.Response(hosts[0], OutcomeGateway, t0)
	}
	for i := range 3 * DefaultConsecutive5xx {
		if p.Response(hosts[1], OutcomeGateway, t0) {
			t.Fatalf("second host ejected at its response %d although one of four is ejected already", i)
		}
	}
	// Once the first ejection has ended, the second host's run (still counting) ejects it.
	if !p.Response(hosts[1], OutcomeGateway, t0.Add(DefaultBaseEjectionTime)) {
		t.Fatal("second host not ejected once the first ejection ended")
	}
	if got := p.ejections.Load(); got != 2 {
		t.Fatalf("ejections = %d, want 2", got)
	}
}

func TestOutcomeOf(t *testing.T) {
	for code, want := range map[int]Outcome{200: OutcomeOK, 404: OutcomeOK, 499: OutcomeOK, 500: Outcome5xx, 501: Outcome5xx, 502: OutcomeGateway, 503: OutcomeGateway, 504: OutcomeGateway, 505: Outcome5xx} {
		if got := OutcomeOf(code); got != want {
			t.Errorf("OutcomeOf(%d) = %d, want %d", code, got, want)
		}
	}
}
