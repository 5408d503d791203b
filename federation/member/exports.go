package member

import (
	"cmp"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/priority"
)

// Objects is what the hub read from one member cluster, from synced caches.
type Objects struct {
	Services   []corev1.Service
	Namespaces map[string]*corev1.Namespace
	// ServiceExports are the MCS ServiceExports, by the Service they export.
	ServiceExports map[types.NamespacedName]*mcsv1alpha1.ServiceExport
	// EndpointSlices are grouped by the Service they belong to (the
	// kubernetes.io/service-name label). Read only: Connection.Objects shares them with its
	// caches.
	EndpointSlices map[types.NamespacedName][]discoveryv1.EndpointSlice
	// MCSEndpointSlices are the MCS EndpointSlices the hub wrote into the member (managed-by
	// meshfed, with the multicluster.kubernetes.io/service-name label), by that label. They are
	// never exported. Read only, as EndpointSlices.
	MCSEndpointSlices map[types.NamespacedName][]*discoveryv1.EndpointSlice
	// Nodes by name. Read only, as EndpointSlices.
	Nodes map[string]*corev1.Node
	// Derived, when set, keeps the endpoints derived from EndpointSlices between passes (see
	// EndpointsCache); Exports then converts only the Services whose slices or Nodes changed.
	Derived *EndpointsCache
	// Exported, when set, keeps the exports between passes (see ExportsCache); Exports then
	// reads again only the Services whose objects changed.
	Exported *ExportsCache
}

// ServiceValueProblem is a ValueProblem of one Service.
type ServiceValueProblem struct {
	Service types.NamespacedName
	ValueProblem
}

// Exports turns one member's objects into its exports, sorted by namespace and name, and the
// problems met on the way. Objects the hub itself wrote (managed-by meshfed) are never exported.
// With objs.Exported, the exports are the cache's own list: read only, and never modified
// afterwards, by the cache either (the hub keeps it, see ExportsCache).
func Exports(site Site, objs *Objects) ([]model.ClusterExport, []ServiceValueProblem) {
	var problems []ServiceValueProblem
	d := derivation{objs: objs}
	if objs.Derived != nil {
		d.nodes = nodeLocalities(objs.Nodes)
		objs.Derived.begin()
		defer objs.Derived.end()
	}
	cache := objs.Exported
	pass := cache.begin()
	for i := range objs.Services {
		svc := &objs.Services[i]
		key := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
		if svc.Labels[wellknown.ManagedByLabel] == wellknown.ManagedByValue {
			continue
		}
		exp, ok, ps, cached := exportThrough(cache, site, svc, &d)
		pass.saw(cached, ok, exp)
		for _, p := range ps {
			problems = append(problems, ServiceValueProblem{Service: key, ValueProblem: p})
		}
	}
	out, sorted := pass.exports()
	if !sorted {
		slices.SortFunc(out, func(a, b model.ClusterExport) int {
			return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
		})
	}
	return cache.finish(pass, out), problems
}

// exportThrough is exportOf through cache (when not nil): the cached export of a Service whose
// objects did not change, with its endpoints derived again (through the EndpointsCache). It
// returns the Service's cache entry (nil when it is not cached), and how the export relates
// to the entry's as the last pass returned it: the same, or the same but for its endpoints.
func exportThrough(cache *ExportsCache, site Site, svc *corev1.Service, d *derivation) (exp model.ClusterExport, ok bool, problems []ValueProblem, cached cachedAs) {
	if cache == nil {
		exp, ok, problems = exportOf(site, svc, d)
		return exp, ok, problems, cachedAs{}
	}
	key := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
	ns := d.objs.Namespaces[svc.Namespace]
	src, cacheable := sourceOf(site, svc, ns, d.objs.ServiceExports[key])
	if e := cache.export(key, src); cacheable && e != nil {
		if !e.ok {
			return model.ClusterExport{}, false, e.problems, cachedAs{entry: e, same: true}
		}
		if last, held := cache.exportAt(key, e); held {
			siteNS := site
			siteNS.Network = NetworkOf(site.Network, ns)
			eps, patch := d.endpoints(key, siteNS)
			if patch == nil && model.SameEndpoints(eps, last.Endpoints) {
				return last, true, e.problems, cachedAs{entry: e, same: true}
			}
			exp = last
			exp.Endpoints, exp.EndpointsPatch = eps, patch // the patch is handed out once, with this pass's export
			return exp, true, e.problems, cachedAs{entry: e}
		}
	}
	exp, ok, problems = exportOf(site, svc, d)
	if !cacheable {
		return exp, ok, problems, cachedAs{}
	}
	e := &cachedExport{from: src, ok: ok, problems: problems, pos: -1}
	cache.keep(key, e)
	return exp, ok, problems, cachedAs{entry: e}
}

// derivation is what Exports derives endpoints with: the objects and the digest of their
// Nodes' localities.
type derivation struct {
	objs  *Objects
	nodes uint64
}

// endpoints derives the endpoints of Service key, through the cache when there is one, and
// how they were patched from the cache's earlier ones (nil when they were not).
func (d *derivation) endpoints(key types.NamespacedName, site Site) ([]model.Endpoint, *model.EndpointsPatch) {
	return d.objs.Derived.endpoints(key, site, d.objs.EndpointSlices[key], d.objs.Nodes, d.nodes)
}

func exportOf(site Site, svc *corev1.Service, d *derivation) (model.ClusterExport, bool, []ValueProblem) {
	objs := d.objs
	key := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
	ns := objs.Namespaces[svc.Namespace]
	se := objs.ServiceExports[key]
	dec := ReadExport(svc, ns, se != nil)
	problems := dec.Problems
	if !dec.Exported {
		return model.ClusterExport{}, false, problems
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return model.ClusterExport{}, false, append(problems, ValueProblem{
			Reason:  meshfedv1.GlobalServiceReasonUnsupportedType,
			Message: fmt.Sprintf("Service %s is of type ExternalName and has no endpoints to federate; not exported", key),
		})
	}
	src := priority.Sources{Spec: derefString(svc.Spec.TrafficDistribution), Service: priority.AnnotationsFrom(svc.Annotations)}
	if ns != nil {
		src.Namespace = priority.AnnotationsFrom(ns.Annotations)
	}
	res := priority.Resolve(src, model.DefaultBackendMode)
	for _, p := range res.Problems {
		problems = append(problems, ValueProblem{
			Reason:  meshfedv1.GlobalServiceReasonInvalidTrafficDistribution,
			Message: fmt.Sprintf("Service %s: %v; using %s", key, p, res.Distribution.Mode),
		})
	}
	outlier, oproblem := readOutlier(key, svc, ns)
	if oproblem != nil {
		problems = append(problems, *oproblem)
	}
	load, lproblems := readLoad(key, src)
	problems = append(problems, lproblems...)
	created := svc.CreationTimestamp.Time
	if se != nil && dec.Scope == model.ScopeGlobal && se.CreationTimestamp.After(created) {
		created = se.CreationTimestamp.Time
	}
	siteNS := site
	siteNS.Network = NetworkOf(site.Network, ns)
	eps, patch := d.endpoints(key, siteNS)
	return model.ClusterExport{
		Cluster:         site.Cluster,
		Namespace:       svc.Namespace,
		Name:            svc.Name,
		Scope:           dec.Scope,
		Takeover:        dec.Takeover,
		Created:         created,
		Type:            serviceType(svc),
		Ports:           servicePorts(svc.Spec.Ports),
		Distribution:    res.Distribution,
		DistributionSet: res.Explicit,
		Outlier:         outlier,
		Load:            load,
		Properties:      serviceProperties(svc),
		Endpoints:       eps,
		EndpointsPatch:  patch,
	}, true, problems
}

func serviceType(svc *corev1.Service) model.ServiceType {
	if svc.Spec.ClusterIP == corev1.ClusterIPNone {
		return model.ServiceTypeHeadless
	}
	return model.ServiceTypeClusterSetIP
}

func servicePorts(ps []corev1.ServicePort) []model.Port {
	out := make([]model.Port, 0, len(ps))
	for _, p := range ps {
		out = append(out, model.Port{
			Name:        p.Name,
			Port:        p.Port,
			Protocol:    string(cmp.Or(p.Protocol, corev1.ProtocolTCP)),
			AppProtocol: derefString(p.AppProtocol),
		})
	}
	return out
}

// serviceProperties reads the Service fields an MCS ServiceImport repeats, as written.
func serviceProperties(svc *corev1.Service) model.ServiceProperties {
	p := model.ServiceProperties{
		SessionAffinity:     string(svc.Spec.SessionAffinity),
		TrafficDistribution: derefString(svc.Spec.TrafficDistribution),
	}
	if c := svc.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
		t := *c.ClientIP.TimeoutSeconds
		p.SessionAffinityTimeout = &t
	}
	if itp := svc.Spec.InternalTrafficPolicy; itp != nil {
		p.InternalTrafficPolicy = string(*itp)
	}
	for _, f := range svc.Spec.IPFamilies {
		p.IPFamilies = append(p.IPFamilies, string(f))
	}
	return p
}

func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// readOutlier reads the outlier-detection annotation of the Service, else of its Namespace.
// An invalid value is a problem and means no policy (the waypoints' defaults).
func readOutlier(key types.NamespacedName, svc *corev1.Service, ns *corev1.Namespace) (*model.OutlierPolicy, *ValueProblem) {
	v, ok := svc.Annotations[wellknown.OutlierDetectionKey]
	from := "Service " + key.String()
	if !ok && ns != nil {
		v, ok = ns.Annotations[wellknown.OutlierDetectionKey]
		from = "Namespace " + ns.Name
	}
	if !ok {
		return nil, nil
	}
	p, err := model.ParseOutlierPolicy(v)
	if err != nil {
		return nil, &ValueProblem{
			Reason:  meshfedv1.GlobalServiceReasonInvalidOutlierDetection,
			Message: fmt.Sprintf("%s: annotation %s: %v; using the waypoints' defaults", from, wellknown.OutlierDetectionKey, err),
		}
	}
	if p.IsZero() {
		return nil, nil
	}
	return &p, nil
}

// readLoad reads the Service's load policy (meshfed.io/overprovisioning-factor and
// meshfed.io/panic-threshold, the Service's value beating its Namespace's, as
// priority.ResolveLoad decides). An invalid value is a problem and leaves that setting at the
// waypoints' default; nil when nothing usable is set.
func readLoad(key types.NamespacedName, src priority.Sources) (*model.LoadPolicy, []ValueProblem) {
	p, ps := priority.ResolveLoad(src)
	var problems []ValueProblem
	for _, pr := range ps {
		problems = append(problems, ValueProblem{
			Reason:  meshfedv1.GlobalServiceReasonInvalidLoadPolicy,
			Message: fmt.Sprintf("Service %s: %v; using the waypoints' default", key, pr),
		})
	}
	if p.IsZero() {
		return nil, problems
	}
	return &p, problems
}

// HasReadyEndpoint reports whether the Service svc has at least one ready endpoint in its
// EndpointSlices.
func (o *Objects) HasReadyEndpoint(svc types.NamespacedName) bool {
	for i := range o.EndpointSlices[svc] {
		for _, ep := range o.EndpointSlices[svc][i].Endpoints {
			if ep.Conditions.Ready == nil || *ep.Conditions.Ready {
				return true
			}
		}
	}
	return false
}
