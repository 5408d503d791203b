package balance

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of OutlierOptions, as Envoy's outlier detection.
const (
	// DefaultConsecutiveFailures is how many consecutive connect failures eject an endpoint.
	DefaultConsecutiveFailures = 5
	// DefaultConsecutive5xx is how many consecutive 5xx responses eject an endpoint.
	DefaultConsecutive5xx = 5
	// DefaultConsecutiveGatewayErrors is how many consecutive 502, 503 or 504 responses eject an
	// endpoint.
	DefaultConsecutiveGatewayErrors = 5
	// DefaultBaseEjectionTime is the first ejection's length; the n-th lasts n times as long.
	DefaultBaseEjectionTime = 30 * time.Second
	// DefaultMaxEjectionTime caps one ejection's length.
	DefaultMaxEjectionTime = 300 * time.Second
	// DefaultMaxEjectionPercent caps the share of a route's endpoints ejected at once; at least
	// one endpoint can always be ejected.
	DefaultMaxEjectionPercent = 10
)

// OutlierOptions configure outlier detection: connect failures (Envoy's consecutive local-origin
// failures) on every route, and on per-request routes 5xx and gateway-error responses (Envoy's
// consecutive_5xx and consecutive_gateway_failure). The zero value is Envoy's defaults, except
// that the gateway-error detector is enforced (Envoy enforces it at 0% unless told otherwise).
type OutlierOptions struct {
	// Disabled turns outlier detection off.
	Disabled bool
	// ConsecutiveFailures ejects an endpoint after this many connect failures in a row; 0 means
	// DefaultConsecutiveFailures, negative turns it off.
	ConsecutiveFailures int
	// Consecutive5xx ejects an endpoint after this many 5xx responses in a row (a reset or a
	// timed-out try counts as one); 0 means DefaultConsecutive5xx, negative turns it off.
	Consecutive5xx int
	// ConsecutiveGatewayErrors ejects an endpoint after this many 502, 503 or 504 responses in
	// a row (resets and timed-out tries count); 0 means DefaultConsecutiveGatewayErrors,
	// negative turns it off.
	ConsecutiveGatewayErrors int
	// BaseEjectionTime is multiplied by how often the endpoint has been ejected; 0 means
	// DefaultBaseEjectionTime.
	BaseEjectionTime time.Duration
	// MaxEjectionTime caps an ejection (never below BaseEjectionTime); 0 means
	// DefaultMaxEjectionTime.
	MaxEjectionTime time.Duration
	// MaxEjectionPercent caps the ejected share of a route's endpoints, 1..100; 0 means
	// DefaultMaxEjectionPercent. One endpoint can always be ejected.
	MaxEjectionPercent int
}

// Validate rejects values that cannot mean anything.
func (o *OutlierOptions) Validate() error {
	if o.BaseEjectionTime < 0 || o.MaxEjectionTime < 0 || o.MaxEjectionPercent < 0 || o.MaxEjectionPercent > 100 {
		return fmt.Errorf("failed to validate outlier options %+v: negative value or percent above 100", *o)
	}
	return nil
}

// WithDefaults returns the options with every zero field set to its default.
func (o OutlierOptions) WithDefaults() OutlierOptions {
	if o.ConsecutiveFailures == 0 {
		o.ConsecutiveFailures = DefaultConsecutiveFailures
	}
	if o.Consecutive5xx == 0 {
		o.Consecutive5xx = DefaultConsecutive5xx
	}
	if o.ConsecutiveGatewayErrors == 0 {
		o.ConsecutiveGatewayErrors = DefaultConsecutiveGatewayErrors
	}
	if o.BaseEjectionTime == 0 {
		o.BaseEjectionTime = DefaultBaseEjectionTime
	}
	if o.MaxEjectionTime == 0 {
		o.MaxEjectionTime = DefaultMaxEjectionTime
	}
	o.MaxEjectionTime = max(o.MaxEjectionTime, o.BaseEjectionTime)
	if o.MaxEjectionPercent == 0 {
		o.MaxEjectionPercent = DefaultMaxEjectionPercent
	}
	return o
}

// Pool is the outlier-detection state of one route's endpoints. It outlives snapshots: a
// rebuilt route reuses the hosts of its predecessor, so counts and ejections survive endpoint
// and service changes. mu guards the outlier fields of every host of the pool.
type Pool struct {
	opts  OutlierOptions
	mu    sync.Mutex
	hosts map[string]*Host
	// ejections counts the pool's ejections since it was created (for metrics).
	ejections atomic.Int64
}

// NewPool returns an empty pool detecting outliers with opts (defaults applied).
func NewPool(opts OutlierOptions) *Pool {
	return &Pool{opts: opts, hosts: make(map[string]*Host)}
}

// Host returns the pool's host for key, creating it.
func (p *Pool) Host(key, cluster, addr string) *Host {
	p.mu.Lock()
	defer p.mu.Unlock()
	h, ok := p.hosts[key]
	if !ok {
		h = &Host{key: key, cluster: cluster, addr: addr}
		p.hosts[key] = h
	}
	return h
}

// Retain drops the hosts not in keep; connections still holding them finish normally.
func (p *Pool) Retain(keep map[string]bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k := range p.hosts {
		if !keep[k] {
			delete(p.hosts, k)
		}
	}
}

// Success records a connect that succeeded: the run of consecutive failures ends.
func (p *Pool) Success(h *Host) {
	h.connects.Add(1)
	p.mu.Lock()
	h.consecutive = 0
	p.mu.Unlock()
}

// Failure records a failed connect at now and reports whether it ejected the host.
func (p *Pool) Failure(h *Host, now time.Time) bool {
	h.connects.Add(1)
	h.failures.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.opts.Disabled || h.ejectedAt(now) {
		return false // a late failure of a try picked before the ejection does not count twice
	}
	h.consecutive++
	if p.opts.ConsecutiveFailures < 0 || h.consecutive < p.opts.ConsecutiveFailures {
		return false
	}
	return p.eject(h, now)
}

// eject ejects h at now unless MaxEjectionPercent is reached, and reports whether it did. An
// ejection ends every run of h; a refused one leaves them counting, so that the next failure
// tries again. mu is held.
func (p *Pool) eject(h *Host, now time.Time) bool {
	if p.ejectedCount(now) >= p.ejectionLimit() {
		return false
	}
	h.times = decayed(h, now, p.opts.BaseEjectionTime) + 1
	h.ejectedUntil = now.Add(min(p.opts.BaseEjectionTime*time.Duration(h.times), p.opts.MaxEjectionTime))
	h.consecutive, h.run5xx, h.runGateway = 0, 0, 0
	p.ejections.Add(1)
	return true
}

// ejectedCount counts the pool's hosts ejected at now; mu is held.
func (p *Pool) ejectedCount(now time.Time) int {
	n := 0
	for _, h := range p.hosts {
		if h.ejectedAt(now) {
			n++
		}
	}
	return n
}

// ejectionLimit is how many hosts may be ejected at once: MaxEjectionPercent of the pool,
// rounded down, but at least one; mu is held.
func (p *Pool) ejectionLimit() int {
	return max(1, len(p.hosts)*p.opts.MaxEjectionPercent/100)
}

// decayed is the host's ejection count after the time it has spent unejected: one less per
// BaseEjectionTime since its last ejection ended (Envoy decrements it once per detection
// interval while the host is not ejected).
func decayed(h *Host, now time.Time, base time.Duration) int {
	if h.times == 0 || h.ejectedUntil.IsZero() {
		return h.times
	}
	return max(0, h.times-int(now.Sub(h.ejectedUntil)/base))
}

// OutlierState is a host's outlier state at now, for the debug table.
type OutlierState struct {
	Ejected             bool      `json:"ejected"`
	EjectedUntil        time.Time `json:"ejectedUntil,omitzero"`
	TimesEjected        int       `json:"timesEjected"`
	ConsecutiveFailures int       `json:"consecutiveFailures"`
	Consecutive5xx      int       `json:"consecutive5xx"`
	ConsecutiveGateway  int       `json:"consecutiveGatewayErrors"`
}

// State is the outlier state of h at now, for the debug table.
func (p *Pool) State(h *Host, now time.Time) OutlierState {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := OutlierState{
		Ejected: h.ejectedAt(now), TimesEjected: h.times, ConsecutiveFailures: h.consecutive,
		Consecutive5xx: h.run5xx, ConsecutiveGateway: h.runGateway,
	}
	if s.Ejected {
		s.EjectedUntil = h.ejectedUntil
	}
	return s
}

// EjectedUntil returns until when the host is ejected; zero when it is not at now.
func (p *Pool) EjectedUntil(h *Host, now time.Time) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if h.ejectedAt(now) {
		return h.ejectedUntil
	}
	return time.Time{}
}

// Ejections counts the pool's ejections since it was created (for metrics).
func (p *Pool) Ejections() int64 { return p.ejections.Load() }
