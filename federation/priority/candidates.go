package priority

import (
	"sync/atomic"

	"github.com/meshfed/meshfed/federation/model"
)

// Candidates is the set of endpoints one pick chooses among (one tier's healthy or degraded
// endpoints, or all of them in panic), with their weights precomputed so that a pick does no
// allocation. Build it once per endpoint or health change and share it by pointer; it must not
// be copied after first use (it holds the round-robin cursor).
type Candidates struct {
	idx    []int
	cum    []uint64 // cum[k] = Σ weight of idx[0..k]; nil when all weights are equal
	total  uint64
	stride uint64      // weighted round robin: a step coprime with total
	slots  []aliasSlot // weighted sampling and weights; nil when all weights are equal
	cursor atomic.Uint64
}

// NewCandidates prepares the endpoints eps[i] for i in idx. idx is retained, not copied; the
// caller must not change it afterwards.
func NewCandidates(eps []model.Endpoint, idx []int) *Candidates {
	c := &Candidates{idx: idx}
	if !uniformWeights(eps, idx) {
		c.cum = make([]uint64, len(idx))
		weights := make([]uint32, len(idx))
		for k, i := range idx {
			weights[k] = eps[i].EffectiveWeight()
			c.total += uint64(weights[k])
			c.cum[k] = c.total
		}
		c.stride = coprimeStride(c.total)
		c.slots = newAliasTable(weights, c.total)
	}
	return c
}

// Len is the number of candidates.
func (c *Candidates) Len() int { return len(c.idx) }

// Indices are the candidates' endpoint indices; read-only.
func (c *Candidates) Indices() []int { return c.idx }

// uniformWeights reports whether all candidates have the same effective weight.
func uniformWeights(eps []model.Endpoint, idx []int) bool {
	for _, i := range idx {
		if eps[i].EffectiveWeight() != eps[idx[0]].EffectiveWeight() {
			return false
		}
	}
	return true
}

// weight is candidate k's weight (1 when uniform: only ratios matter).
func (c *Candidates) weight(k int) uint64 {
	if c.slots == nil {
		return 1
	}
	return uint64(c.slots[k].weight)
}

// sample maps a 32-bit uniform random value to a candidate position, with probability
// proportional to weight, in constant time. Thirty-two bits keep the bias below n/2³², and let
// one 64-bit draw serve both choices of a P2C pick.
func (c *Candidates) sample(r uint32) int {
	if c.slots == nil {
		return int(uint64(r) * uint64(len(c.idx)) >> 32)
	}
	return aliasSample(c.slots, r, c.total)
}

// search returns the first position whose cumulative weight exceeds target.
func (c *Candidates) search(target uint64) int {
	lo, hi := 0, len(c.cum)-1
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if c.cum[mid] > target {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// coprimeStride returns a step near total/φ that is coprime with total, so that stepping through
// 0..total-1 by it visits every slot once per cycle and interleaves the candidates.
func coprimeStride(total uint64) uint64 {
	if total <= 2 {
		return 1
	}
	s := max(total/8*5, 1) // ≈ total × 0.625, close to 1/φ
	for gcd(s, total) != 1 {
		s++
	}
	return s
}

// gcd is the greatest common divisor.
func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
