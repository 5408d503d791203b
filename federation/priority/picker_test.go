package priority

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
)

// weighted returns endpoints with the given weights and the identity index list.
func weighted(weights ...uint32) ([]model.Endpoint, []int) {
	eps := make([]model.Endpoint, len(weights))
	idx := make([]int, len(weights))
	for i, w := range weights {
		eps[i] = model.Endpoint{Ready: true, Serving: true, Weight: w}
		idx[i] = i
	}
	return eps, idx
}

// shares picks n times and returns each endpoint's share.
func shares(t *testing.T, pk Picker, c *Candidates, in InFlight, size, n int) []float64 {
	t.Helper()
	counts := make([]int, size)
	for range n {
		i, ok := pk.Pick(c, in)
		if !ok {
			t.Fatal("Pick found no candidate")
		}
		counts[i]++
	}
	out := make([]float64, size)
	for i, c := range counts {
		out[i] = float64(c) / float64(n)
	}
	return out
}

// near checks every share against its expectation within tol.
func near(t *testing.T, got, want []float64, tol float64) {
	t.Helper()
	for i := range want {
		if math.Abs(got[i]-want[i]) > tol {
			t.Errorf("share[%d] = %.4f, want %.4f ± %.3f (all: %.4f)", i, got[i], want[i], tol, got)
		}
	}
}

func TestLeastRequestStatistics(t *testing.T) {
	const n = 200_000
	tests := []struct {
		name     string
		weights  []uint32
		inflight counters
		want     []float64
	}{
		{"idle follows weights", []uint32{1, 2, 3, 4}, counters{0, 0, 0, 0}, []float64{.1, .2, .3, .4}},
		{"zero weight is one", []uint32{0, 1, 2}, counters{0, 0, 0}, []float64{.25, .25, .5}},
		// Host 0 loaded: it wins only when both choices fall on it (1/16).
		{"prefers less loaded", []uint32{1, 1, 1, 1}, counters{10, 0, 0, 0}, []float64{1. / 16, 5. / 16, 5. / 16, 5. / 16}},
		// Equal load per weight (3/3 vs 1/1): ties keep the weighted first choice.
		{"equal load per weight", []uint32{3, 1}, counters{3, 1}, []float64{.75, .25}},
		// Host 0 busier per weight (4/3 > 1/1): it wins only against itself (0.75²).
		{"busier per weight loses", []uint32{3, 1}, counters{4, 1}, []float64{.5625, .4375}},
		{"negative in-flight reads as zero", []uint32{1, 1}, counters{-5, 1}, []float64{.75, .25}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eps, idx := weighted(tt.weights...)
			c := NewCandidates(eps, idx)
			got := shares(t, NewLeastRequest(NewSplitMix(1)), c, tt.inflight, len(eps), n)
			near(t, got, tt.want, 0.006)
			got = shares(t, NewLeastRequest(rand.NewPCG(7, 9)), c, tt.inflight, len(eps), n)
			near(t, got, tt.want, 0.006)
		})
	}
}

func TestLeastRequestDeterministic(t *testing.T) {
	eps, idx := weighted(1, 5, 2, 7, 1)
	in := counters{3, 1, 0, 2, 9}
	run := func() []int {
		p, c := NewLeastRequest(NewSplitMix(42)), NewCandidates(eps, idx)
		out := make([]int, 64)
		for k := range out {
			out[k], _ = p.Pick(c, in)
		}
		return out
	}
	a, b := run(), run()
	for k := range a {
		if a[k] != b[k] {
			t.Fatalf("same seed gave different picks at %d: %v vs %v", k, a, b)
		}
	}
}

func TestPickersEdgeCases(t *testing.T) {
	eps, _ := weighted(1, 1, 1)
	for _, pk := range []Picker{NewLeastRequest(NewSplitMix(1)), RoundRobin{}} {
		if i, ok := pk.Pick(NewCandidates(eps, nil), nil); ok || i != -1 {
			t.Errorf("%T on no candidates = %d, %v", pk, i, ok)
		}
		if i, ok := pk.Pick(NewCandidates(eps, []int{2}), counters{0, 0, 0}); !ok || i != 2 {
			t.Errorf("%T on one candidate = %d, %v; want 2", pk, i, ok)
		}
	}
}

func TestRoundRobinUniform(t *testing.T) {
	eps, _ := weighted(1, 1, 1, 1)
	c := NewCandidates(eps, []int{3, 1, 2})
	want := []int{3, 1, 2, 3, 1, 2, 3}
	for k, w := range want {
		if got, _ := (RoundRobin{}).Pick(c, nil); got != w {
			t.Fatalf("pick %d = %d, want %d", k, got, w)
		}
	}
}

func TestRoundRobinWeighted(t *testing.T) {
	tests := []struct {
		weights []uint32
	}{
		{[]uint32{1, 2, 5}},
		{[]uint32{3, 3, 3, 1}},
		{[]uint32{100, 1}},
		{[]uint32{7, 11, 13, 2, 1}},
	}
	for _, tt := range tests {
		eps, idx := weighted(tt.weights...)
		c := NewCandidates(eps, idx)
		total, heaviest := 0, 0
		for _, w := range tt.weights {
			total += int(w)
			heaviest = max(heaviest, int(w))
		}
		for cycle := range 3 {
			counts := make([]int, len(eps))
			run, longest, last := 0, 0, -1
			for range total {
				i, _ := (RoundRobin{}).Pick(c, nil)
				counts[i]++
				if i == last {
					run++
				} else {
					run, last = 1, i
				}
				longest = max(longest, run)
			}
			for i, w := range tt.weights {
				if counts[i] != int(w) {
					t.Errorf("weights %v cycle %d: endpoint %d picked %d times, want %d", tt.weights, cycle, i, counts[i], w)
				}
			}
			if heaviest > 2 && heaviest < total && longest >= heaviest {
				t.Errorf("weights %v: run of %d equals the heaviest weight; picks are not interleaved", tt.weights, longest)
			}
		}
	}
}

// TestPickersConcurrent shares one picker and one Candidates among goroutines; round robin must
// still hand out every slot of every cycle exactly once.
func TestPickersConcurrent(t *testing.T) {
	eps, idx := weighted(1, 2, 5)
	c := NewCandidates(eps, idx)
	lr := NewLeastRequest(NewSplitMix(3))
	const workers, perWorker = 4, 8 * 500
	var mu sync.Mutex
	counts := make([]int, len(eps))
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			local := make([]int, len(eps))
			for range perWorker {
				i, _ := (RoundRobin{}).Pick(c, nil)
				local[i]++
				if _, ok := lr.Pick(c, counters{0, 0, 0}); !ok {
					t.Error("LeastRequest found no candidate")
				}
			}
			mu.Lock()
			defer mu.Unlock()
			for i, n := range local {
				counts[i] += n
			}
		})
	}
	wg.Wait()
	cycles := workers * perWorker / 8
	for i, w := range []int{1, 2, 5} {
		if counts[i] != w*cycles {
			t.Errorf("endpoint %d picked %d times, want %d", i, counts[i], w*cycles)
		}
	}
}

func TestCoprimeStride(t *testing.T) {
	for total := uint64(1); total < 500; total++ {
		s := coprimeStride(total)
		if gcd(s, total) != 1 || s == 0 {
			t.Fatalf("coprimeStride(%d) = %d, not coprime", total, s)
		}
	}
}
