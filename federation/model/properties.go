package model

import "slices"

// ServiceProperties are the fields of an exported Service that an MCS ServiceImport repeats
// (KEP 1645): the hub reads them from each export, merges them (the oldest export that sets a
// field wins) and writes them on the ServiceImport. The waypoints do not act on them: they do
// not pin clients to backends (session affinity) nor keep traffic on the client's node
// (internal traffic policy); they rank endpoints by the resolved Distribution, of which
// TrafficDistribution is one source. An empty field is one the export leaves unset.
type ServiceProperties struct {
	// SessionAffinity is spec.sessionAffinity: "None" or "ClientIP".
	SessionAffinity string
	// SessionAffinityTimeout is spec.sessionAffinityConfig.clientIP.timeoutSeconds; nil when
	// unset.
	SessionAffinityTimeout *int32
	// InternalTrafficPolicy is spec.internalTrafficPolicy: "Cluster" or "Local".
	InternalTrafficPolicy string
	// TrafficDistribution is spec.trafficDistribution as written, for example PreferClose.
	TrafficDistribution string
	// IPFamilies is spec.ipFamilies in order ("IPv4", "IPv6"); nil when unset.
	IPFamilies []string
}

// Clone returns a copy of p that shares no memory with it.
func (p ServiceProperties) Clone() ServiceProperties {
	if p.SessionAffinityTimeout != nil {
		t := *p.SessionAffinityTimeout
		p.SessionAffinityTimeout = &t
	}
	p.IPFamilies = slices.Clone(p.IPFamilies)
	return p
}
