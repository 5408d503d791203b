package priority

import "sync/atomic"

// Source yields uniformly distributed 64-bit values. *rand.PCG and *rand.ChaCha8 from
// math/rand/v2 satisfy it but are not safe for concurrent use; SplitMix is.
type Source interface {
	Uint64() uint64
}

// SplitMix is a deterministic Source that is safe for concurrent use: an atomic Weyl sequence
// passed through the SplitMix64 finalizer. The same seed yields the same sequence of values (the
// order in which concurrent callers receive them is up to the scheduler).
type SplitMix struct {
	state atomic.Uint64
}

// splitMix constants: the golden-ratio increment and the finalizer multipliers of SplitMix64.
const (
	splitMixGamma = 0x9e3779b97f4a7c15
	splitMixMul1  = 0xbf58476d1ce4e5b9
	splitMixMul2  = 0x94d049bb133111eb
)

// NewSplitMix returns a SplitMix seeded with seed.
func NewSplitMix(seed uint64) *SplitMix {
	s := &SplitMix{}
	s.state.Store(seed)
	return s
}

// Uint64 returns the next value.
func (s *SplitMix) Uint64() uint64 {
	z := s.state.Add(splitMixGamma)
	z = (z ^ (z >> 30)) * splitMixMul1
	z = (z ^ (z >> 27)) * splitMixMul2
	return z ^ (z >> 31)
}
