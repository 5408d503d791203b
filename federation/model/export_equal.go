package model

import "slices"

// SameService reports whether two exports agree on everything but their endpoints
// (Endpoints and EndpointsPatch): the fields a global service is merged from. The hub's merge
// keeps a service it merged before while every export of it is the SameService as then.
func (e *ClusterExport) SameService(o *ClusterExport) bool {
	return e.Cluster == o.Cluster && e.Namespace == o.Namespace && e.Name == o.Name &&
		e.Scope == o.Scope && e.Takeover == o.Takeover && e.Created.Equal(o.Created) &&
		e.Type == o.Type && slices.Equal(e.Ports, o.Ports) &&
		e.Distribution.Equal(o.Distribution) && e.DistributionSet == o.DistributionSet &&
		e.Outlier.Equal(o.Outlier) && e.Load.Equal(o.Load) && e.Properties.Equal(&o.Properties)
}

// Equal reports whether two outlier policies set the same values; nil sets none.
func (p *OutlierPolicy) Equal(o *OutlierPolicy) bool {
	if p == nil || o == nil {
		return p == o
	}
	return valueEqual(p.Consecutive5xxErrors, o.Consecutive5xxErrors) &&
		valueEqual(p.ConsecutiveGatewayErrors, o.ConsecutiveGatewayErrors) &&
		valueEqual(p.ConsecutiveLocalOriginFailures, o.ConsecutiveLocalOriginFailures) &&
		valueEqual(p.BaseEjectionTime, o.BaseEjectionTime) && valueEqual(p.MaxEjectionTime, o.MaxEjectionTime) &&
		valueEqual(p.MaxEjectionPercent, o.MaxEjectionPercent)
}

// Equal reports whether two load policies set the same values; nil sets none.
func (p *LoadPolicy) Equal(o *LoadPolicy) bool {
	if p == nil || o == nil {
		return p == o
	}
	return valueEqual(p.OverprovisioningFactor, o.OverprovisioningFactor) && valueEqual(p.PanicThreshold, o.PanicThreshold) &&
		p.RemoteEndpoints == o.RemoteEndpoints
}

// Equal reports whether two sets of properties hold the same values (a nil and an empty
// IPFamilies are not told apart).
func (p *ServiceProperties) Equal(o *ServiceProperties) bool {
	return p.SessionAffinity == o.SessionAffinity && valueEqual(p.SessionAffinityTimeout, o.SessionAffinityTimeout) &&
		p.InternalTrafficPolicy == o.InternalTrafficPolicy && p.TrafficDistribution == o.TrafficDistribution &&
		slices.Equal(p.IPFamilies, o.IPFamilies)
}

// valueEqual reports whether two optional values are both unset or both set to the same value.
func valueEqual[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
