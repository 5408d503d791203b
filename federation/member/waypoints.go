package member

import (
	"cmp"
	"fmt"
	"net"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
)

// Waypoint is one namespace's waypoint as other networks reach it.
type Waypoint struct {
	Namespace string
	// Network is the waypoint's network: the namespace's network label, else the cluster's. For
	// a namespace a shared gateway serves, the gateway namespace's label, else the cluster's.
	Network string
	// Addresses are the host:port HBONE addresses callers on other networks dial, sorted;
	// empty when the Service has neither an address annotation nor a load balancer address.
	Addresses []string
	// Gateway is the namespace of the shared gateway (wellknown.GatewayName) that serves
	// Namespace; empty when the namespace's own waypoint does.
	Gateway string
}

// Waypoints reads every namespace's waypoint Service (named wellknown.WaypointName) and the
// addresses other networks reach it at (DESIGN §4): the meshfed.io/hbone-address annotation
// when it is a valid host:port, else the load balancer ingress addresses with the Service's
// HBONE port. An invalid annotation is a problem and falls through to the load balancer. A
// waypoint's ClusterIP is not published: callers on the same network reach endpoints directly.
// The namespaces shared gateways serve (see gatewayWaypoints) come with their gateway's
// addresses. The result is sorted by namespace.
func Waypoints(site Site, objs *Objects) ([]Waypoint, []ServiceValueProblem) {
	var out []Waypoint
	var problems []ServiceValueProblem
	own := map[string]bool{}
	for i := range objs.Services {
		svc := &objs.Services[i]
		if svc.Name != wellknown.WaypointName {
			continue
		}
		own[svc.Namespace] = true
		addrs, problem := hboneAddresses(svc)
		problems = append(problems, problem...)
		out = append(out, Waypoint{Namespace: svc.Namespace, Network: NetworkOf(site.Network, objs.Namespaces[svc.Namespace]), Addresses: addrs})
	}
	served, gproblems := gatewayWaypoints(site, objs, own)
	out = append(out, served...)
	problems = append(problems, gproblems...)
	slices.SortFunc(out, func(a, b Waypoint) int { return cmp.Compare(a.Namespace, b.Namespace) })
	return out, problems
}

// hboneAddresses are the addresses other networks reach a waypoint or gateway Service at: its
// valid address annotation, else its load balancer addresses; an invalid annotation is
// returned as a problem of the Service.
func hboneAddresses(svc *corev1.Service) ([]string, []ServiceValueProblem) {
	addrs, err := annotatedAddress(svc)
	var problems []ServiceValueProblem
	if err != nil {
		problems = append(problems, ServiceValueProblem{
			Service:      types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name},
			ValueProblem: ValueProblem{Reason: meshfedv1.GlobalServiceReasonInvalidHBONEAddress, Message: err.Error()},
		})
	}
	if len(addrs) == 0 {
		addrs = loadBalancerAddresses(svc)
	}
	return addrs, problems
}

// annotatedAddress reads the address annotation; none when it is absent.
func annotatedAddress(svc *corev1.Service) ([]string, error) {
	v, ok := svc.Annotations[wellknown.HBONEAddressKey]
	if !ok {
		return nil, nil
	}
	addr, err := ParseHBONEAddress(v)
	if err != nil {
		return nil, fmt.Errorf("service %s/%s: annotation %s: %w; using its load balancer address", svc.Namespace, svc.Name, wellknown.HBONEAddressKey, err)
	}
	return []string{addr}, nil
}

// ParseHBONEAddress checks a host:port whose host is an IP address or a DNS name and whose
// port is 1–65535, and returns it in canonical form (IPv6 in brackets, no zone).
func ParseHBONEAddress(s string) (string, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("%q is not host:port: %w", s, err)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return "", fmt.Errorf("%q: port %q is not a number in 1-65535", s, port)
	}
	if ip := net.ParseIP(host); ip != nil {
		return net.JoinHostPort(ip.String(), strconv.FormatUint(n, 10)), nil
	}
	if errs := validation.IsDNS1123Subdomain(host); len(errs) > 0 {
		return "", fmt.Errorf("%q: host %q is neither an IP address nor a DNS name", s, host)
	}
	return net.JoinHostPort(host, strconv.FormatUint(n, 10)), nil
}

// loadBalancerAddresses are the Service's load balancer ingress IPs or host names with its
// HBONE port: the TCP port numbered wellknown.HBONEPort or named "hbone", else HBONEPort.
func loadBalancerAddresses(svc *corev1.Service) []string {
	port := int32(wellknown.HBONEPort)
	for _, p := range svc.Spec.Ports {
		if p.Protocol != corev1.ProtocolUDP && (p.Port == wellknown.HBONEPort || p.Name == "hbone") {
			port = p.Port
			break
		}
	}
	var out []string
	for _, in := range svc.Status.LoadBalancer.Ingress {
		host := cmp.Or(in.IP, in.Hostname)
		if host == "" {
			continue
		}
		if a, err := ParseHBONEAddress(net.JoinHostPort(host, strconv.Itoa(int(port)))); err == nil {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
