package member

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
)

// systemNamespaces are Kubernetes' own namespaces, which a gateway serving every namespace
// leaves out.
var systemNamespaces = map[string]bool{"kube-system": true, "kube-public": true, "kube-node-lease": true}

// gatewayWaypoints reads the shared gateways of a cluster (DESIGN §4): Services named
// wellknown.GatewayName that carry wellknown.GatewayNamespacesKey. Each namespace a gateway
// serves gets a Waypoint with the gateway's addresses (as a waypoint Service's, see
// hboneAddresses), the network of the gateway's own namespace (its label, else the
// cluster's) and Gateway set to the gateway's namespace.
//
// A gateway whose annotation lists namespaces by name does not serve:
//
//   - an entry that is not a namespace name (wellknown.GatewayAllNamespaces among names is
//     one);
//   - its own namespace: that is where the gateway runs, not a namespace it carries traffic
//     for (a workload namespace runs its own waypoint or is served by a gateway elsewhere);
//   - a namespace with its own waypoint Service (in own): the namespace's waypoint serves it;
//   - a namespace an earlier gateway lists: with gateways ordered by their namespace, the
//     first that lists a namespace serves it.
//
// A gateway whose annotation is wellknown.GatewayAllNamespaces alone serves every namespace of
// objs.Namespaces but Kubernetes' own (kube-system, kube-public, kube-node-lease), those a
// gateway runs in (its own included), those being deleted, those with their own waypoint
// Service, and those a gateway lists by name: a list wins over "*", whatever the order of the
// gateways' namespaces. Of two "*" gateways, the one whose namespace sorts first serves them
// and the other none.
//
// Each entry not served, a list naming no namespace, and a "*" gateway that serves none
// because another one does, is a problem of the gateway Service with reason
// InvalidGatewayNamespaces; the gateway still serves the rest. The namespaces "*" leaves out
// by its definition are not problems. A Service of that name without the annotation is not a
// gateway and is ignored.
func gatewayWaypoints(site Site, objs *Objects, own map[string]bool) ([]Waypoint, []ServiceValueProblem) {
	r := gatewayReading{site: site, objs: objs, own: own, servedBy: map[string]string{}, runs: map[string]bool{}}
	var named, all []*corev1.Service
	for _, svc := range gatewayServices(objs) {
		r.runs[svc.Namespace] = true
		if strings.TrimSpace(svc.Annotations[wellknown.GatewayNamespacesKey]) == wellknown.GatewayAllNamespaces {
			all = append(all, svc)
		} else {
			named = append(named, svc)
		}
	}
	for _, svc := range named {
		r.readNamed(svc)
	}
	for _, svc := range all {
		r.readAll(svc)
	}
	return r.out, r.problems
}

// gatewayReading is what gatewayWaypoints gathers while it reads a cluster's gateways.
type gatewayReading struct {
	site Site
	objs *Objects
	own  map[string]bool
	// servedBy maps each namespace served so far to its gateway's namespace; runs holds the
	// namespaces a gateway runs in; all is the namespace of the "*" gateway that serves.
	servedBy map[string]string
	runs     map[string]bool
	all      string
	out      []Waypoint
	problems []ServiceValueProblem
}

// problem reports msg about the annotation of gateway Service svc.
func (r *gatewayReading) problem(svc *corev1.Service, msg string) {
	r.problems = append(r.problems, ServiceValueProblem{
		Service: types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name},
		ValueProblem: ValueProblem{
			Reason:  meshfedv1.GlobalServiceReasonInvalidGatewayNamespaces,
			Message: fmt.Sprintf("gateway Service %s/%s: annotation %s: %s", svc.Namespace, svc.Name, wellknown.GatewayNamespacesKey, msg),
		},
	})
}

// serve makes gateway svc, at addrs, the waypoint of namespaces.
func (r *gatewayReading) serve(svc *corev1.Service, addrs []string, namespaces []string) {
	network := NetworkOf(r.site.Network, r.objs.Namespaces[svc.Namespace])
	for _, ns := range namespaces {
		r.servedBy[ns] = svc.Namespace
		r.out = append(r.out, Waypoint{Namespace: ns, Network: network, Addresses: slices.Clone(addrs), Gateway: svc.Namespace})
	}
}

// addresses are the gateway's HBONE addresses; a bad annotation is a problem.
func (r *gatewayReading) addresses(svc *corev1.Service) []string {
	addrs, problems := hboneAddresses(svc)
	r.problems = append(r.problems, problems...)
	return addrs
}

// readNamed serves the namespaces a gateway lists by name.
func (r *gatewayReading) readNamed(svc *corev1.Service) {
	namespaces, err := ParseGatewayNamespaces(svc.Annotations[wellknown.GatewayNamespacesKey])
	if err != nil {
		r.problem(svc, err.Error())
	}
	if len(namespaces) == 0 {
		r.problem(svc, "lists no namespace; the gateway serves none")
		return
	}
	addrs := r.addresses(svc)
	var serves []string
	for _, ns := range namespaces {
		switch {
		case ns == svc.Namespace:
			r.problem(svc, fmt.Sprintf("the gateway does not serve its own namespace %s", ns))
		case r.own[ns]:
			r.problem(svc, fmt.Sprintf("namespace %s has its own %s Service, which serves it instead", ns, wellknown.WaypointName))
		case r.servedBy[ns] != "":
			r.problem(svc, fmt.Sprintf("namespace %s is served by the gateway in %s, whose namespace sorts first", ns, r.servedBy[ns]))
		default:
			serves = append(serves, ns)
		}
	}
	r.serve(svc, addrs, serves)
}

// readAll serves every namespace left to a "*" gateway, unless an earlier one took them.
func (r *gatewayReading) readAll(svc *corev1.Service) {
	if r.all != "" {
		r.problem(svc, fmt.Sprintf("the gateway in %s serves every namespace (%q) too, and its namespace sorts first; this gateway serves none", r.all, wellknown.GatewayAllNamespaces))
		return
	}
	r.all = svc.Namespace
	addrs := r.addresses(svc)
	var serves []string
	for _, ns := range slices.Sorted(maps.Keys(r.objs.Namespaces)) {
		n := r.objs.Namespaces[ns]
		if systemNamespaces[ns] || r.runs[ns] || r.own[ns] || r.servedBy[ns] != "" || n == nil || n.DeletionTimestamp != nil {
			continue
		}
		serves = append(serves, ns)
	}
	r.serve(svc, addrs, serves)
}

// Gateways are the namespaces the cluster's shared gateways run in, sorted: those of the
// Services named wellknown.GatewayName that carry wellknown.GatewayNamespacesKey, whatever
// they serve (a gateway may serve none).
func Gateways(objs *Objects) []string {
	var out []string
	for _, svc := range gatewayServices(objs) {
		out = append(out, svc.Namespace)
	}
	return out
}

// gatewayServices are the cluster's gateway Services, ordered by namespace.
func gatewayServices(objs *Objects) []*corev1.Service {
	var out []*corev1.Service
	for i := range objs.Services {
		svc := &objs.Services[i]
		if _, ok := svc.Annotations[wellknown.GatewayNamespacesKey]; ok && svc.Name == wellknown.GatewayName {
			out = append(out, svc)
		}
	}
	slices.SortFunc(out, func(a, b *corev1.Service) int { return strings.Compare(a.Namespace, b.Namespace) })
	return out
}

// ParseGatewayNamespaces reads a value of wellknown.GatewayNamespacesKey that lists
// namespaces: names separated by commas, blanks around each ignored, empty entries skipped. It
// returns the valid names sorted and without duplicates, and an error naming every entry that
// is not a namespace name (a DNS-1123 label), wellknown.GatewayAllNamespaces among them (it
// stands only alone, see gatewayWaypoints); the valid names are returned with it.
func ParseGatewayNamespaces(s string) ([]string, error) {
	var out, bad []string
	all := false
	for entry := range strings.SplitSeq(s, ",") {
		ns := strings.TrimSpace(entry)
		switch {
		case ns == "":
		case ns == wellknown.GatewayAllNamespaces:
			all = true
		case len(validation.IsDNS1123Label(ns)) > 0:
			bad = append(bad, fmt.Sprintf("%q", ns))
		default:
			out = append(out, ns)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	var msgs []string
	if len(bad) > 0 {
		msgs = append(msgs, fmt.Sprintf("not a namespace name (a DNS-1123 label), ignored: %s", strings.Join(bad, ", ")))
	}
	if all {
		msgs = append(msgs, fmt.Sprintf("%q (every namespace) must be the whole value, not an entry among names; ignored", wellknown.GatewayAllNamespaces))
	}
	if len(msgs) > 0 {
		return out, fmt.Errorf("%s", strings.Join(msgs, "; "))
	}
	return out, nil
}
