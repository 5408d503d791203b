package priority

// Defaults of LoadOptions, as in Envoy.
const (
	// DefaultOverprovisioningFactor is Envoy's default overprovisioning factor, in percent (1.4).
	DefaultOverprovisioningFactor = 140
	// DefaultPanicThreshold is Envoy's default healthy panic threshold, in percent.
	DefaultPanicThreshold = 50
)

// LoadOptions tune the load split across tiers. The zero value is Envoy's defaults.
type LoadOptions struct {
	// OverprovisioningFactor in percent; 0 means DefaultOverprovisioningFactor.
	OverprovisioningFactor uint32
	// PanicThreshold in percent, capped at 100; 0 means DefaultPanicThreshold.
	PanicThreshold uint32
	// DisablePanic turns panic mode off, as Envoy's threshold of 0%.
	DisablePanic bool
}

// factor is the effective overprovisioning factor.
func (o LoadOptions) factor() uint64 {
	if o.OverprovisioningFactor == 0 {
		return DefaultOverprovisioningFactor
	}
	return uint64(o.OverprovisioningFactor)
}

// threshold is the effective panic threshold in percent; 0 means panic is off.
func (o LoadOptions) threshold() uint64 {
	switch {
	case o.DisablePanic:
		return 0
	case o.PanicThreshold == 0:
		return DefaultPanicThreshold
	case o.PanicThreshold > 100:
		return 100
	}
	return uint64(o.PanicThreshold)
}

// TierHealth counts one tier's endpoints.
type TierHealth struct {
	// Healthy counts endpoints that are ready, serving, not terminating and not ejected.
	Healthy int
	// Total counts all endpoints of the tier.
	Total int
}

// Load is how traffic splits across tiers, computed as Envoy computes priority load.
type Load struct {
	// Health is each tier's health score in percent: min(100, factor × healthy / total).
	Health []uint32
	// NormalizedTotal is min(100, Σ Health).
	NormalizedTotal uint32
	// Percent is each tier's share of traffic; the shares sum to 100 when there is a tier.
	Percent []uint32
	// Panic marks tiers that balance over all their endpoints, healthy or not.
	Panic []bool
	// TotalPanic reports that every tier panicked and Percent follows endpoint counts.
	TotalPanic bool
}

// Distribute splits load across tiers the way Envoy does
// (source/common/upstream/load_balancer_impl.cc: recalculatePerPriorityState,
// recalculatePerPriorityPanic, recalculateLoadInTotalPanic), in integer percent:
//
//	health(P) = min(100, factor × healthy(P) / total(P))     integer division
//	NTA       = min(100, Σ health)
//	load(P)   = min(remaining, round(health(P) × 100 / NTA))  top-down, rounded to nearest
//	remainder → the first tier with health > 0
//
// Rounding the normalized share to nearest (Envoy's code floors it) keeps the split closest to
// the exact proportions and gives the figures of Envoy's own documentation: tiers at 25/25/20 %
// healthy (health 35/35/28, NTA 98) load 36/36/28 rather than the floored 37/35/28. Whenever
// NTA is 100 the two agree, since every share is then an integer already.
//
// When NTA < 100, a tier whose healthy share is below the panic threshold is in panic; if every
// tier is, load follows endpoint counts (remainder to the first non-empty tier). When NTA is 0 and
// not every tier panics (panic disabled), tier 0 takes all load, as Envoy does.
func Distribute(health []TierHealth, o LoadOptions) Load {
	n := len(health)
	l := Load{Health: make([]uint32, n), Percent: make([]uint32, n), Panic: make([]bool, n)}
	if n == 0 {
		return l
	}
	sum := uint64(0)
	for i, h := range health {
		l.Health[i] = healthScore(h, o.factor())
		sum += uint64(l.Health[i])
	}
	l.NormalizedTotal = uint32(min(sum, 100))
	if l.NormalizedTotal > 0 {
		distributeByHealth(&l)
	}
	l.TotalPanic = markPanic(&l, health, o.threshold())
	switch {
	case l.TotalPanic:
		distributeByCount(&l, health)
	case l.NormalizedTotal == 0:
		l.Percent[0] = 100
	}
	return l
}

// healthScore is min(100, factor × healthy / total), 0 for an empty tier.
func healthScore(h TierHealth, factor uint64) uint32 {
	if h.Total <= 0 || h.Healthy <= 0 {
		return 0
	}
	healthy := uint64(min(h.Healthy, h.Total))
	return uint32(min(factor*healthy/uint64(h.Total), 100))
}

// distributeByHealth hands out 100% top-down by normalized health.
func distributeByHealth(l *Load) {
	remaining := uint32(100)
	first := -1
	for i, h := range l.Health {
		if first < 0 && h > 0 {
			first = i
		}
		share := min(remaining, (h*100+l.NormalizedTotal/2)/l.NormalizedTotal)
		l.Percent[i] = share
		remaining -= share
	}
	l.Percent[first] += remaining
}

// markPanic sets per-tier panic (only when NTA < 100) and reports whether every tier panics.
func markPanic(l *Load, health []TierHealth, threshold uint64) bool {
	if l.NormalizedTotal == 100 {
		return false
	}
	total := true
	for i, h := range health {
		l.Panic[i] = inPanic(h, threshold)
		total = total && l.Panic[i]
	}
	return total
}

// inPanic reports whether the tier's healthy percentage is below the threshold, exactly:
// 100 × healthy / total < threshold  ⇔  100 × healthy < threshold × total.
func inPanic(h TierHealth, threshold uint64) bool {
	if h.Total <= 0 {
		return threshold > 0
	}
	healthy := uint64(max(min(h.Healthy, h.Total), 0))
	return 100*healthy < threshold*uint64(h.Total)
}

// distributeByCount splits load by endpoint counts (total panic).
func distributeByCount(l *Load, health []TierHealth) {
	hosts := uint64(0)
	for _, h := range health {
		hosts += uint64(max(h.Total, 0))
	}
	clear(l.Percent)
	if hosts == 0 {
		l.Percent[0] = 100
		return
	}
	remaining := uint32(100)
	first := -1
	for i, h := range health {
		count := uint64(max(h.Total, 0))
		if first < 0 && count > 0 {
			first = i
		}
		l.Percent[i] = uint32(100 * count / hosts)
		remaining -= l.Percent[i]
	}
	l.Percent[first] += remaining
}
