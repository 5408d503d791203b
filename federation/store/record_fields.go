package store

import "time"

// StoredPort is one port of a ServiceRecord.
type StoredPort struct {
	// Name is the service port's name; absent when the Service leaves it empty.
	Name string `json:"name,omitempty"`
	// Port is the service port number (1–65535).
	Port int32 `json:"port"`
	// Protocol is the port's L4 protocol: TCP, UDP or SCTP.
	Protocol string `json:"protocol"`
	// AppProtocol is the port's application protocol (for example http, h2c, grpc); absent
	// when unset.
	AppProtocol string `json:"appProtocol,omitempty"`
	// WaypointPort is the waypoint listener port (1–65535) the hub allocated for this port in
	// the service's namespace; absent while none is allocated.
	WaypointPort int32 `json:"waypointPort,omitempty"`
}

// StoredDistribution is a service's resolved traffic distribution.
type StoredDistribution struct {
	// Mode is the traffic-distribution mode (model.Mode), for example PreferClose.
	Mode string `json:"mode"`
	// FailoverPriority are the ordered label keys of mode FailoverPriority; absent otherwise.
	FailoverPriority []string `json:"failoverPriority,omitempty"`
}

// StoredOutlier is a service's outlier-detection policy (meshfed.io/outlier-detection). An
// absent field keeps the waypoint's default.
type StoredOutlier struct {
	// Consecutive5xxErrors, ConsecutiveGatewayErrors and ConsecutiveLocalOriginFailures are
	// counts of consecutive failures (0–1000) that eject an endpoint; 0 disables the detector.
	Consecutive5xxErrors           *uint32 `json:"consecutive5xxErrors,omitempty"`
	ConsecutiveGatewayErrors       *uint32 `json:"consecutiveGatewayErrors,omitempty"`
	ConsecutiveLocalOriginFailures *uint32 `json:"consecutiveLocalOriginFailures,omitempty"`
	// BaseEjectionTime is the first ejection's length, MaxEjectionTime the longest one.
	BaseEjectionTime *StoredDuration `json:"baseEjectionTime,omitempty"`
	MaxEjectionTime  *StoredDuration `json:"maxEjectionTime,omitempty"`
	// MaxEjectionPercent is the share of the service's endpoints (0–100) that may be ejected at
	// once, in percent.
	MaxEjectionPercent *uint32 `json:"maxEjectionPercent,omitempty"`
}

// StoredLoadPolicy is a service's load policy (meshfed.io/overprovisioning-factor,
// meshfed.io/panic-threshold, meshfed.io/remote-endpoints). An absent field keeps the
// waypoint's default.
type StoredLoadPolicy struct {
	// OverprovisioningFactor is Envoy's overprovisioning factor in percent (140 means 1.4); at
	// least 1.
	OverprovisioningFactor *uint32 `json:"overprovisioningFactor,omitempty"`
	// PanicThreshold is Envoy's healthy panic threshold in percent (0–100); 0 disables panic.
	PanicThreshold *uint32 `json:"panicThreshold,omitempty"`
	// RemoteEndpoints is how a waypoint sees the service's endpoints in clusters on other
	// networks (model.RemoteEndpoints): "each" (one by one, the default when absent) or
	// "aggregated" (one per cluster, weighted by its healthy endpoints, balanced by that
	// cluster's waypoint). Added within version 1: older records lack it.
	RemoteEndpoints string `json:"remoteEndpoints,omitempty"`
}

// StoredProperties are the Service fields a ServiceImport repeats (model.ServiceProperties),
// as the exported Service writes them. An absent field is unset.
type StoredProperties struct {
	// SessionAffinity is spec.sessionAffinity: None or ClientIP.
	SessionAffinity string `json:"sessionAffinity,omitempty"`
	// SessionAffinityTimeoutSeconds is spec.sessionAffinityConfig.clientIP.timeoutSeconds
	// (1–86400).
	SessionAffinityTimeoutSeconds *int32 `json:"sessionAffinityTimeoutSeconds,omitempty"`
	// InternalTrafficPolicy is spec.internalTrafficPolicy: Cluster or Local.
	InternalTrafficPolicy string `json:"internalTrafficPolicy,omitempty"`
	// TrafficDistribution is spec.trafficDistribution as written, for example PreferClose.
	TrafficDistribution string `json:"trafficDistribution,omitempty"`
	// IPFamilies is spec.ipFamilies in order: one or two distinct of IPv4 and IPv6.
	IPFamilies []string `json:"ipFamilies,omitempty"`
}

// StoredDuration is a duration stored as Go formats it ("1m30s").
type StoredDuration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d StoredDuration) MarshalText() ([]byte, error) {
	return []byte(time.Duration(d).String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *StoredDuration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = StoredDuration(v)
	return nil
}

// StoredExporter is one cluster that exports a service.
type StoredExporter struct {
	// Cluster is the exporting cluster.
	Cluster string `json:"cluster"`
	// Scope is the cluster's own scope for its endpoints (model.Scope).
	Scope string `json:"scope"`
	// Endpoints and Ready are always written as 0: the counts change with every readiness flip,
	// and an endpoint change must rewrite only its cluster's EndpointsRecord (DESIGN §4). They
	// are kept so that schema version 1 values keep their bytes.
	Endpoints int `json:"endpoints"`
	Ready     int `json:"ready"`
}

// StoredImport is one cluster where a service is visible.
type StoredImport struct {
	// Cluster is the importing cluster.
	Cluster string `json:"cluster"`
	// From are the exporting clusters whose endpoints the importing cluster may address,
	// sorted; null when none.
	From []string `json:"from"`
}

// StoredConflict is one disagreement between a service's exporters, resolved by a documented
// rule (DESIGN §4).
type StoredConflict struct {
	// Reason is the MCS conflict reason (model.ConflictReason), for example PortConflict.
	Reason string `json:"reason"`
	// Message says what differs and how it was resolved.
	Message string `json:"message"`
	// Clusters are the clusters involved; null when none.
	Clusters []string `json:"clusters"`
}

// StoredEndpoint is one backend address of a service in one cluster.
type StoredEndpoint struct {
	// Address is the endpoint's IPv4 or IPv6 address.
	Address string `json:"address"`
	// Hostname is the endpoint's hostname in its EndpointSlice (a DNS-1123 label); absent when
	// it has none. Records written before it existed read as without one; a reader drops a
	// value that is no DNS-1123 label and keeps the endpoint.
	Hostname string `json:"hostname,omitempty"`
	// Ports are the endpoint's target ports, one per service port it serves; absent when none.
	Ports []StoredEndpointPort `json:"ports,omitempty"`
	// Locality is where the endpoint runs.
	Locality StoredLocality `json:"locality"`
	// Ready, Serving and Terminating are the EndpointSlice conditions; terminating is absent
	// when false.
	Ready       bool `json:"ready"`
	Serving     bool `json:"serving"`
	Terminating bool `json:"terminating,omitempty"`
	// Weight is the endpoint's relative share inside its tier; absent (read as 1) when 0.
	Weight uint32 `json:"weight,omitempty"`
	// Labels are the keys meshfed.io/failover-priority can rank by; absent when none.
	Labels map[string]string `json:"labels,omitempty"`
}

// StoredEndpointPort maps a service port, by name, to the port an endpoint listens on.
type StoredEndpointPort struct {
	// Name is the service port's name; absent when empty.
	Name string `json:"name,omitempty"`
	// Port is the endpoint's target port number (1–65535).
	Port int32 `json:"port"`
}

// StoredLocality is where an endpoint runs. Each field is absent when unknown.
type StoredLocality struct {
	// Network is the endpoint's network (the namespace's network label, else the cluster's).
	Network string `json:"network,omitempty"`
	// Region, Zone and Subzone come from the endpoint's Node labels (DESIGN §3.3).
	Region  string `json:"region,omitempty"`
	Zone    string `json:"zone,omitempty"`
	Subzone string `json:"subzone,omitempty"`
	// Node is the name of the endpoint's Node.
	Node string `json:"node,omitempty"`
	// Cluster is the exporting cluster.
	Cluster string `json:"cluster,omitempty"`
}
