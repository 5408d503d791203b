package priority

import "math/bits"

// InFlight reports the number of requests (or connections) currently in flight to endpoint i, an
// index into the endpoint slice. The waypoint backs it with atomic counters; negative counts are
// read as 0.
type InFlight interface {
	InFlight(i int) int64
}

// Picker chooses one endpoint among candidates. It returns the endpoint's index and false only
// when there is no candidate. Implementations in this package are safe for concurrent use as long
// as their Source is: share one picker per endpoint table.
type Picker interface {
	Pick(c *Candidates, in InFlight) (int, bool)
}

// LeastRequest is the default picker: two weighted random choices (P2C), then the one with fewer
// in-flight requests per unit of weight. A tie keeps the first choice, so with no load the split
// follows the weights exactly; under load, busier endpoints lose more duels. It is safe for
// concurrent use when its Source is (SplitMix is).
type LeastRequest struct {
	src Source
}

// NewLeastRequest returns a LeastRequest picker drawing randomness from src.
func NewLeastRequest(src Source) *LeastRequest { return &LeastRequest{src: src} }

// Pick draws two candidates by weight and keeps the less loaded one. A nil InFlight makes it a
// weighted random pick.
func (p *LeastRequest) Pick(c *Candidates, in InFlight) (int, bool) {
	switch len(c.idx) {
	case 0:
		return -1, false
	case 1:
		return c.idx[0], true
	}
	r := p.src.Uint64()
	a, b := c.sample(uint32(r>>32)), c.sample(uint32(r))
	if in != nil && lessLoaded(c, in, b, a) {
		a = b
	}
	return c.idx[a], true
}

// lessLoaded reports whether candidate b has strictly fewer in-flight requests per weight than a:
// in(b)/w(b) < in(a)/w(a) ⇔ in(b)·w(a) < in(a)·w(b), compared in 128 bits.
func lessLoaded(c *Candidates, in InFlight, b, a int) bool {
	ib, ia := inflight(in, c.idx[b]), inflight(in, c.idx[a])
	bh, bl := bits.Mul64(ib, c.weight(a))
	ah, al := bits.Mul64(ia, c.weight(b))
	return bh < ah || (bh == ah && bl < al)
}

// inflight reads a count, clamping negatives to 0.
func inflight(in InFlight, i int) uint64 {
	return uint64(max(in.InFlight(i), 0))
}

// RoundRobin is the weighted round-robin picker. Each Candidates keeps its own atomic cursor, so
// one RoundRobin value serves any number of tiers and goroutines. With equal weights it cycles in
// order; with weights, every cycle of Σweight picks gives each endpoint exactly its weight,
// interleaved by a stride coprime with Σweight.
type RoundRobin struct{}

// Pick returns the next candidate in the cycle; in is not consulted.
func (RoundRobin) Pick(c *Candidates, _ InFlight) (int, bool) {
	n := uint64(len(c.idx))
	if n == 0 {
		return -1, false
	}
	step := c.cursor.Add(1) - 1
	if c.cum == nil {
		return c.idx[step%n], true
	}
	hi, lo := bits.Mul64(step%c.total, c.stride)
	return c.idx[c.search(bits.Rem64(hi, lo, c.total))], true
}
