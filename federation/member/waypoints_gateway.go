package member

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
)

// gatewayWaypoints reads the shared gateways of a cluster (DESIGN §4): Services named
// wellknown.GatewayName that carry wellknown.GatewayNamespacesKey. Each namespace a gateway
// lists gets a Waypoint with the gateway's addresses (as a waypoint Service's, see
// hboneAddresses), the network of the gateway's own namespace (its label, else the
// cluster's) and Gateway set to the gateway's namespace. A gateway does not serve:
//
//   - an entry that is not a namespace name;
//   - its own namespace: that is where the gateway runs, not a namespace it carries traffic
//     for (a workload namespace runs its own waypoint or is served by a gateway elsewhere);
//   - a namespace with its own waypoint Service (in own): the namespace's waypoint serves it;
//   - a namespace an earlier gateway serves: with gateways ordered by their namespace, the
//     first that lists a namespace serves it.
//
// Each of these, and a list naming no namespace, is a problem of the gateway Service with
// reason InvalidGatewayNamespaces; the gateway still serves the rest of its list. A Service of
// that name without the annotation is not a gateway and is ignored.
func gatewayWaypoints(site Site, objs *Objects, own map[string]bool) ([]Waypoint, []ServiceValueProblem) {
	var gateways []*corev1.Service
	for i := range objs.Services {
		svc := &objs.Services[i]
		if _, ok := svc.Annotations[wellknown.GatewayNamespacesKey]; ok && svc.Name == wellknown.GatewayName {
			gateways = append(gateways, svc)
		}
	}
	slices.SortFunc(gateways, func(a, b *corev1.Service) int { return strings.Compare(a.Namespace, b.Namespace) })
	var out []Waypoint
	var problems []ServiceValueProblem
	servedBy := map[string]string{}
	for _, svc := range gateways {
		problem := func(msg string) {
			problems = append(problems, ServiceValueProblem{
				Service: types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name},
				ValueProblem: ValueProblem{
					Reason:  meshfedv1.GlobalServiceReasonInvalidGatewayNamespaces,
					Message: fmt.Sprintf("gateway Service %s/%s: annotation %s: %s", svc.Namespace, svc.Name, wellknown.GatewayNamespacesKey, msg),
				},
			})
		}
		namespaces, err := ParseGatewayNamespaces(svc.Annotations[wellknown.GatewayNamespacesKey])
		if err != nil {
			problem(err.Error())
		}
		if len(namespaces) == 0 {
			problem("lists no namespace; the gateway serves none")
			continue
		}
		addrs, aproblems := hboneAddresses(svc)
		problems = append(problems, aproblems...)
		network := NetworkOf(site.Network, objs.Namespaces[svc.Namespace])
		for _, ns := range namespaces {
			switch {
			case ns == svc.Namespace:
				problem(fmt.Sprintf("the gateway does not serve its own namespace %s", ns))
			case own[ns]:
				problem(fmt.Sprintf("namespace %s has its own %s Service, which serves it instead", ns, wellknown.WaypointName))
			case servedBy[ns] != "":
				problem(fmt.Sprintf("namespace %s is served by the gateway in %s, whose namespace sorts first", ns, servedBy[ns]))
			default:
				servedBy[ns] = svc.Namespace
				out = append(out, Waypoint{Namespace: ns, Network: network, Addresses: slices.Clone(addrs), Gateway: svc.Namespace})
			}
		}
	}
	return out, problems
}

// ParseGatewayNamespaces reads the value of wellknown.GatewayNamespacesKey: namespace names
// separated by commas, blanks around each ignored, empty entries skipped. It returns the valid
// names sorted and without duplicates, and an error naming every entry that is not a
// namespace name (a DNS-1123 label); the valid names are returned with it.
func ParseGatewayNamespaces(s string) ([]string, error) {
	var out, bad []string
	for entry := range strings.SplitSeq(s, ",") {
		ns := strings.TrimSpace(entry)
		switch {
		case ns == "":
		case len(validation.IsDNS1123Label(ns)) > 0:
			bad = append(bad, fmt.Sprintf("%q", ns))
		default:
			out = append(out, ns)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(bad) > 0 {
		return out, fmt.Errorf("not a namespace name (a DNS-1123 label), ignored: %s", strings.Join(bad, ", "))
	}
	return out, nil
}
