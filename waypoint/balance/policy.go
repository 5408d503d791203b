package balance

import "github.com/meshfed/meshfed/federation/model"

// WithPolicy returns o (defaults applied) overridden by a service's outlier policy (the
// meshfed.io/outlier-detection annotation, carried in its store record). A threshold of 0 in the
// policy turns that detector off, as in Istio; nil changes nothing.
func (o OutlierOptions) WithPolicy(p *model.OutlierPolicy) OutlierOptions {
	if p == nil {
		return o
	}
	threshold := func(v *uint32, dst *int) {
		if v == nil {
			return
		}
		*dst = int(*v)
		if *v == 0 {
			*dst = -1
		}
	}
	threshold(p.Consecutive5xxErrors, &o.Consecutive5xx)
	threshold(p.ConsecutiveGatewayErrors, &o.ConsecutiveGatewayErrors)
	threshold(p.ConsecutiveLocalOriginFailures, &o.ConsecutiveFailures)
	if p.BaseEjectionTime != nil {
		o.BaseEjectionTime = *p.BaseEjectionTime
	}
	if p.MaxEjectionTime != nil {
		o.MaxEjectionTime = *p.MaxEjectionTime
	}
	o.MaxEjectionTime = max(o.MaxEjectionTime, o.BaseEjectionTime)
	if p.MaxEjectionPercent != nil {
		o.MaxEjectionPercent = int(*p.MaxEjectionPercent)
	}
	return o
}

// Configure replaces the pool's options (a service's policy changed); counts and ejections
// in progress are kept.
func (p *Pool) Configure(o OutlierOptions) {
	p.mu.Lock()
	p.opts = o
	p.mu.Unlock()
}
