package waypoint

import "time"

// outcome is what one HTTP try to a host ended with, as outlier detection counts it.
type outcome int

const (
	// outcomeOK is a response below 500: it ends both runs.
	outcomeOK outcome = iota
	// outcome5xx is a 500, 501 or 505+ response: it counts towards consecutive 5xx only.
	outcome5xx
	// outcomeGateway is a 502, 503 or 504 response, or a try that got no response (reset,
	// timed out) after the connection was made: it counts towards both runs, as Envoy maps a
	// reset to 503 and a timeout to 504 when it does not split local-origin errors.
	outcomeGateway
)

// outcomeOf classifies a response status code.
func outcomeOf(code int) outcome {
	switch {
	case code == 502 || code == 503 || code == 504:
		return outcomeGateway
	case code >= 500:
		return outcome5xx
	default:
		return outcomeOK
	}
}

// response records the outcome of one HTTP try to h at now and reports whether it ejected h.
// Outcomes seen while h is ejected (tries picked before the ejection) do not count, as with
// connect failures. Connect failures are recorded by failure, through dial.
func (p *pool) response(h *host, o outcome, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if o == outcomeOK {
		h.run5xx, h.runGateway = 0, 0
		return false
	}
	if p.opts.Disabled || h.ejectedAt(now) {
		return false
	}
	h.run5xx++
	if o == outcomeGateway {
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
