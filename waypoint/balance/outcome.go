package balance

import "time"

// Outcome is what one HTTP try to a host ended with, as outlier detection counts it.
type Outcome int

const (
	// OutcomeOK is a response below 500: it ends both runs.
	OutcomeOK Outcome = iota
	// Outcome5xx is a 500, 501 or 505+ response: it counts towards consecutive 5xx only.
	Outcome5xx
	// OutcomeGateway is a 502, 503 or 504 response, or a try that got no response (reset,
	// timed out) after the connection was made: it counts towards both runs, as Envoy maps a
	// reset to 503 and a timeout to 504 when it does not split local-origin errors.
	OutcomeGateway
)

// OutcomeOf classifies a response status code.
func OutcomeOf(code int) Outcome {
	switch {
	case code == 502 || code == 503 || code == 504:
		return OutcomeGateway
	case code >= 500:
		return Outcome5xx
	default:
		return OutcomeOK
	}
}

// Response records the Outcome of one HTTP try to h at now and reports whether it ejected h.
// Outcomes seen while h is ejected (tries picked before the ejection) do not count, as with
// connect failures. Connect failures are recorded by Failure, through the waypoint's dial.
func (p *Pool) Response(h *Host, o Outcome, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if o == OutcomeOK {
		h.run5xx, h.runGateway = 0, 0
		return false
	}
	if p.opts.Disabled || h.ejectedAt(now) {
		return false
	}
	h.run5xx++
	if o == OutcomeGateway {
		h.runGateway++
	} else {
		h.runGateway = 0
	}
	over5xx := p.opts.Consecutive5xx > 0 && h.run5xx >= p.opts.Consecutive5xx
	overGateway := p.opts.ConsecutiveGatewayErrors > 0 && h.runGateway >= p.opts.ConsecutiveGatewayErrors
	if !over5xx && !overGateway {
		return false
	}
	return p.eject(h, now)
}
