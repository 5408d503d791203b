package priority

import "github.com/meshfed/meshfed/apis/wellknown"

// SpecKey names spec.trafficDistribution in Problems.
const SpecKey = "spec.trafficDistribution"

// Sources are the raw traffic-distribution and load-balancing inputs of one Service, as
// strings. An empty string means "not set". The caller copies them out of the Service and its
// Namespace; this package never sees a Kubernetes object.
type Sources struct {
	// Spec is the Service's spec.trafficDistribution.
	Spec string
	// Service holds the Service's own annotations.
	Service Annotations
	// Namespace holds the annotations of the Service's Namespace.
	Namespace Annotations
}

// Annotations are the annotations of one object (Service or Namespace) this package reads.
type Annotations struct {
	// TrafficDistribution is the meshfed.io/traffic-distribution value.
	TrafficDistribution string
	// IstioTrafficDistribution is the networking.istio.io/traffic-distribution value.
	IstioTrafficDistribution string
	// FailoverPriority is the meshfed.io/failover-priority value.
	FailoverPriority string
	// OverprovisioningFactor is the meshfed.io/overprovisioning-factor value.
	OverprovisioningFactor string
	// PanicThreshold is the meshfed.io/panic-threshold value.
	PanicThreshold string
	// RemoteEndpoints is the meshfed.io/remote-endpoints value.
	RemoteEndpoints string
}

// AnnotationsFrom copies the annotations this package reads out of an object's annotation map.
// A nil map yields no values.
func AnnotationsFrom(annotations map[string]string) Annotations {
	return Annotations{
		TrafficDistribution:      annotations[wellknown.TrafficDistributionKey],
		IstioTrafficDistribution: annotations[wellknown.IstioTrafficDistributionKey],
		FailoverPriority:         annotations[wellknown.FailoverPriorityKey],
		OverprovisioningFactor:   annotations[wellknown.OverprovisioningFactorKey],
		PanicThreshold:           annotations[wellknown.PanicThresholdKey],
		RemoteEndpoints:          annotations[wellknown.RemoteEndpointsKey],
	}
}

// input is one raw value with where it came from.
type input struct {
	origin Origin
	key    string
	value  string
}

// levels returns the traffic-distribution inputs grouped by precedence level, best first;
// inside a level, the first set value wins.
func (s Sources) levels() [3][]input {
	return [3][]input{
		{{OriginSpec, SpecKey, s.Spec}},
		s.Service.inputs(OriginService),
		s.Namespace.inputs(OriginNamespace),
	}
}

// inputs lists one object's traffic-distribution annotations in their precedence order.
func (a Annotations) inputs(origin Origin) []input {
	return []input{
		{origin, wellknown.FailoverPriorityKey, a.FailoverPriority},
		{origin, wellknown.TrafficDistributionKey, a.TrafficDistribution},
		{origin, wellknown.IstioTrafficDistributionKey, a.IstioTrafficDistribution},
	}
}
