package model

// Locality is where an endpoint (or a client) runs, from widest to narrowest. Cluster is not a
// level of the hierarchy but a key some modes rank by (DESIGN §3.3 lists where each comes from).
// Its JSON names are those of the waypoint's /debug/endpoints document; the federation store
// declares its own (package store).
type Locality struct {
	Network string `json:"network,omitempty"`
	Region  string `json:"region,omitempty"`
	Zone    string `json:"zone,omitempty"`
	Subzone string `json:"subzone,omitempty"`
	Node    string `json:"node,omitempty"`
	Cluster string `json:"cluster,omitempty"`
}

// EndpointPort maps a service port (by name) to the port the endpoint listens on.
type EndpointPort struct {
	Name string
	Port int32
}

// Endpoint is one backend address of a service in one cluster, as its EndpointSlice says.
type Endpoint struct {
	// Address is the endpoint's IP address.
	Address string
	// Hostname is the endpoint's hostname in its EndpointSlice (a StatefulSet pod's name, or a
	// pod's spec.hostname under a Service named by its spec.subdomain): a DNS-1123 label, or ""
	// when it has none. Headless names (<hostname>.<cluster ID>.<svc>.<ns>.svc.clusterset.local)
	// are made from it.
	Hostname string
	// Ports are the endpoint's target ports, one per service port it serves.
	Ports []EndpointPort
	// Locality is where the endpoint runs.
	Locality Locality
	// Ready, Serving and Terminating are the EndpointSlice conditions.
	Ready       bool
	Serving     bool
	Terminating bool
	// Weight is the relative share inside a tier; 0 means 1.
	Weight uint32
	// Labels are extra keys that meshfed.io/failover-priority can rank by.
	Labels map[string]string
}

// Healthy reports whether the endpoint may take traffic as far as its cluster knows: ready,
// serving and not terminating. Outlier ejection is a data-plane state kept elsewhere.
func (e *Endpoint) Healthy() bool { return e.Ready && e.Serving && !e.Terminating }

// Degraded reports whether the endpoint is serving but terminating (Kubernetes'
// terminating-serving endpoints, which kube-proxy uses only when nothing else serves). Load
// balancing treats it as Envoy treats a degraded host: used once the healthy endpoints of every
// tier cannot take the load. An endpoint is never both Healthy and Degraded.
func (e *Endpoint) Degraded() bool { return e.Serving && e.Terminating }

// EffectiveWeight is the weight with the zero value read as 1.
func (e *Endpoint) EffectiveWeight() uint32 {
	if e.Weight == 0 {
		return 1
	}
	return e.Weight
}

// TargetPort returns the endpoint's port for the named service port.
func (e *Endpoint) TargetPort(name string) (int32, bool) {
	for _, p := range e.Ports {
		if p.Name == name {
			return p.Port, true
		}
	}
	return 0, false
}

// ValidHostname reports whether h may be an endpoint's hostname: a DNS-1123 label (lowercase
// letters, digits and '-', starting and ending with a letter or digit, 1–63 characters), what
// the EndpointSlice API requires. Hostnames come from member clusters and from the store, both
// outside input, so each is checked where it enters.
func ValidHostname(h string) bool {
	if len(h) == 0 || len(h) > 63 || h[0] == '-' || h[len(h)-1] == '-' {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// SameEndpoints reports whether a and b are the same slice, not merely equal contents: the
// same length and, when not empty, the same first element. The hub's stages hand an
// unchanged Service's endpoints on as the same slice, and each keeps what it derived from
// them while they are; a stage that holds a keeps its array from being reused for another
// slice.
func SameEndpoints(a, b []Endpoint) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
