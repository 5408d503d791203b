package writeback

import (
	"cmp"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	mcsv1beta1 "sigs.k8s.io/mcs-api/pkg/apis/v1beta1"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/model"
)

// writeBackLabels are the labels of every object the hub writes back into a member for the
// global service name; cleanup selects by both.
func writeBackLabels(name string) map[string]string {
	return map[string]string{wellknown.ManagedByLabel: wellknown.ManagedByValue, wellknown.GlobalServiceNameLabel: name}
}

// ownedBy reports whether labels mark an object the hub wrote for the global service name.
func ownedBy(labels map[string]string, name string) bool {
	return labels[wellknown.ManagedByLabel] == wellknown.ManagedByValue && labels[wellknown.GlobalServiceNameLabel] == name
}

// protocolOf is a port's protocol, TCP when unset (the Kubernetes default).
func protocolOf(p model.Port) corev1.Protocol {
	return corev1.Protocol(cmp.Or(p.Protocol, string(corev1.ProtocolTCP)))
}

func appProtocolOf(p model.Port) *string {
	if p.AppProtocol == "" {
		return nil
	}
	return &p.AppProtocol
}

// desiredDerivedService builds the derived Service of g in a member: a ClusterIP Service that
// selects the namespace's waypoint pods, one port per global-service port with the port,
// name, protocol and appProtocol kept and the target port set to the waypoint port allocated
// for it. Ports without an allocated waypoint port are left out; nil when none is left. When a
// shared gateway serves the namespace (gateway is its namespace) the Service selects nothing:
// the hub writes its EndpointSlices (see desiredGatewaySlices).
func desiredDerivedService(g *model.GlobalService, ports PortLookup, gateway string) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: wellknown.DerivedServiceName(g.Name), Namespace: g.Namespace, Labels: writeBackLabels(g.Name)},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP},
	}
	if gateway == "" {
		svc.Spec.Selector = wellknown.WaypointSelector()
	}
	for _, p := range g.Ports {
		wp := ports(g, p)
		if wp == 0 {
			continue
		}
		svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{
			Name: p.Name, Protocol: protocolOf(p), AppProtocol: appProtocolOf(p), Port: p.Port, TargetPort: intstr.FromInt32(wp),
		})
	}
	if len(svc.Spec.Ports) == 0 {
		return nil
	}
	return svc
}

// desiredServiceImport builds the MCS ServiceImport of g in member cluster, named like the
// service. A ClusterSetIP import carries the derived Service's ClusterIPs and IP families once
// it has them (its IPs and families must pair up); a Headless import carries no IPs and the
// exported Service's IP families. Both carry the merged session affinity, internal traffic
// policy and traffic distribution (see setProperties). It carries annotations, the hub's (see
// importAnnotations) for the member's DNS server. Its status lists the exporting clusters whose
// endpoints the member may address.
func desiredServiceImport(g *model.GlobalService, cluster string, derived *corev1.Service, annotations map[string]string) *mcsv1beta1.ServiceImport {
	si := &mcsv1beta1.ServiceImport{
		ObjectMeta: metav1.ObjectMeta{Name: g.Name, Namespace: g.Namespace, Labels: writeBackLabels(g.Name), Annotations: annotations},
		Spec:       mcsv1beta1.ServiceImportSpec{Type: mcsv1beta1.ClusterSetIP, Ports: []mcsv1beta1.ServicePort{}},
	}
	setProperties(&si.Spec, &g.Properties)
	if g.Type == model.ServiceTypeHeadless {
		si.Spec.Type = mcsv1beta1.Headless
		for _, f := range g.Properties.IPFamilies {
			si.Spec.IPFamilies = append(si.Spec.IPFamilies, corev1.IPFamily(f))
		}
	} else if derived != nil && len(derived.Spec.ClusterIPs) > 0 && derived.Spec.ClusterIP != corev1.ClusterIPNone {
		si.Spec.IPs = slices.Clone(derived.Spec.ClusterIPs)
		si.Spec.IPFamilies = slices.Clone(derived.Spec.IPFamilies)
	}
	for _, p := range g.Ports {
		si.Spec.Ports = append(si.Spec.Ports, mcsv1beta1.ServicePort{Name: p.Name, Protocol: protocolOf(p), AppProtocol: appProtocolOf(p), Port: p.Port})
	}
	for _, c := range merge.ReachOf(g.Imports).From(cluster) {
		si.Status.Clusters = append(si.Status.Clusters, mcsv1beta1.ClusterStatus{Cluster: c})
	}
	return si
}

// setProperties copies the merged Service fields a ServiceImport repeats. An unset field stays
// unset; the affinity config is there only with a timeout, as the API server defaults it.
func setProperties(spec *mcsv1beta1.ServiceImportSpec, p *model.ServiceProperties) {
	spec.SessionAffinity = corev1.ServiceAffinity(p.SessionAffinity)
	if p.SessionAffinityTimeout != nil {
		t := *p.SessionAffinityTimeout
		spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: &t}}
	}
	if p.InternalTrafficPolicy != "" {
		itp := corev1.ServiceInternalTrafficPolicy(p.InternalTrafficPolicy)
		spec.InternalTrafficPolicy = &itp
	}
	if p.TrafficDistribution != "" {
		td := p.TrafficDistribution
		spec.TrafficDistribution = &td
	}
}

// propertiesEqual reports whether two import specs carry the same session affinity, internal
// traffic policy and traffic distribution.
func propertiesEqual(a, b *mcsv1beta1.ServiceImportSpec) bool {
	return a.SessionAffinity == b.SessionAffinity && equality.Semantic.DeepEqual(a.SessionAffinityConfig, b.SessionAffinityConfig) &&
		equality.Semantic.DeepEqual(a.InternalTrafficPolicy, b.InternalTrafficPolicy) && derefString(a.TrafficDistribution) == derefString(b.TrafficDistribution)
}

// derivedSpecEqual reports whether cur already has what desired asks for: the hub's labels,
// type, selector and ports (fields the API server defaults, such as the ClusterIP, are not
// compared).
func derivedSpecEqual(cur, desired *corev1.Service) bool {
	if !hasLabels(cur.Labels, desired.Labels) || cur.Spec.Type != desired.Spec.Type || !mapsEqual(cur.Spec.Selector, desired.Spec.Selector) {
		return false
	}
	return slices.EqualFunc(cur.Spec.Ports, desired.Spec.Ports, func(a, b corev1.ServicePort) bool {
		return a.Name == b.Name && a.Protocol == b.Protocol && a.Port == b.Port && a.TargetPort == b.TargetPort &&
			derefString(a.AppProtocol) == derefString(b.AppProtocol)
	})
}

// importSpecEqual reports whether cur already has the labels, the hub's annotations, type,
// ports, IPs, IP families and properties of desired.
func importSpecEqual(cur, desired *mcsv1beta1.ServiceImport) bool {
	if !hasLabels(cur.Labels, desired.Labels) || !annotationsHold(cur.Annotations, desired.Annotations) || cur.Spec.Type != desired.Spec.Type || !slices.Equal(cur.Spec.IPs, desired.Spec.IPs) ||
		!slices.Equal(cur.Spec.IPFamilies, desired.Spec.IPFamilies) || !propertiesEqual(&cur.Spec, &desired.Spec) {
		return false
	}
	return slices.EqualFunc(cur.Spec.Ports, desired.Spec.Ports, func(a, b mcsv1beta1.ServicePort) bool {
		return a.Name == b.Name && a.Protocol == b.Protocol && a.Port == b.Port && derefString(a.AppProtocol) == derefString(b.AppProtocol)
	})
}

// importStatusEqual reports whether cur already lists the clusters desired lists.
func importStatusEqual(cur, desired *mcsv1beta1.ServiceImport) bool {
	return slices.Equal(cur.Status.Clusters, desired.Status.Clusters)
}

// hasLabels reports whether every label of want is set in have with the same value.
func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// mapsEqual treats nil and empty maps as equal.
func mapsEqual(a, b map[string]string) bool {
	return len(a) == len(b) && hasLabels(a, b)
}

func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
