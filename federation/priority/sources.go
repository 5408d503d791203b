package priority

// Annotation keys read by AnnotationsFrom. They must equal the constants of the same meaning in
// apis/v1alpha1 (this package may not import that package; the values are the stable API).
const (
	// TrafficDistributionKey is meshfed's traffic-distribution annotation.
	TrafficDistributionKey = "meshfed.io/traffic-distribution"
	// IstioTrafficDistributionKey is Istio's traffic-distribution annotation, accepted as an alias.
	IstioTrafficDistributionKey = "networking.istio.io/traffic-distribution"
	// FailoverPriorityKey lists label keys to rank endpoints by (ModeFailoverPriority).
	FailoverPriorityKey = "meshfed.io/failover-priority"
	// SpecKey names spec.trafficDistribution in Problems.
	SpecKey = "spec.trafficDistribution"
)

// Sources are the raw traffic-distribution inputs of one Service, as strings. An empty string
// means "not set". The caller copies them out of the Service and its Namespace; this package never
// sees a Kubernetes object.
type Sources struct {
	// Spec is the Service's spec.trafficDistribution.
	Spec string
	// Service holds the Service's own annotations.
	Service Annotations
	// Namespace holds the annotations of the Service's Namespace.
	Namespace Annotations
}

// Annotations are the traffic-distribution annotations of one object (Service or Namespace).
type Annotations struct {
	// TrafficDistribution is the meshfed.io/traffic-distribution value.
	TrafficDistribution string
	// IstioTrafficDistribution is the networking.istio.io/traffic-distribution value.
	IstioTrafficDistribution string
	// FailoverPriority is the meshfed.io/failover-priority value.
	FailoverPriority string
}

// AnnotationsFrom copies the traffic-distribution annotations out of an object's annotation map.
// A nil map yields no values.
func AnnotationsFrom(annotations map[string]string) Annotations {
	return Annotations{
		TrafficDistribution:      annotations[TrafficDistributionKey],
		IstioTrafficDistribution: annotations[IstioTrafficDistributionKey],
		FailoverPriority:         annotations[FailoverPriorityKey],
	}
}

// input is one raw value with where it came from.
type input struct {
	origin Origin
	key    string
	value  string
}

// levels returns the inputs grouped by precedence level, best first; inside a level, the first
// set value wins.
func (s Sources) levels() [3][]input {
	return [3][]input{
		{{OriginSpec, SpecKey, s.Spec}},
		s.Service.inputs(OriginService),
		s.Namespace.inputs(OriginNamespace),
	}
}

// inputs lists one object's annotations in their precedence order.
func (a Annotations) inputs(origin Origin) []input {
	return []input{
		{origin, FailoverPriorityKey, a.FailoverPriority},
		{origin, TrafficDistributionKey, a.TrafficDistribution},
		{origin, IstioTrafficDistributionKey, a.IstioTrafficDistribution},
	}
}
