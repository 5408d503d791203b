package merge

import (
	"cmp"
	"slices"

	"github.com/meshfed/meshfed/federation/model"
)

// Input is the federation as the hub gathered it: the member clusters, the segments and every
// cluster's exports, in any order.
type Input struct {
	Clusters []model.Cluster       `json:"clusters"`
	Segments []model.Segment       `json:"segments"`
	Exports  []model.ClusterExport `json:"exports"`
	// Memo, when set, keeps exporters' endpoint copies between merges (see Memo).
	Memo *Memo `json:"-"`
	// Same names the clusters whose exports are exactly those of the memo's last merge: the
	// same values with the same endpoints slices, none with an endpoints patch. A merge with
	// the memo then merges again only the services that the other clusters export or
	// exported, and takes every other service as the last merge built it (see Memo). The
	// caller vouches for it; a cluster left out is only read again. Ignored without a Memo.
	Same map[string]bool `json:"-"`
}

// Key identifies a global service: exports of one namespace/name from clusters whose
// segments share a domain.
type Key struct {
	Namespace string `json:"namespace"`
	Domain    string `json:"domain"`
	Name      string `json:"name"`
}

// Compare orders keys by namespace, domain, then name (the order of Result.Services).
func (k Key) Compare(o Key) int {
	return cmp.Or(cmp.Compare(k.Namespace, o.Namespace), cmp.Compare(k.Domain, o.Domain), cmp.Compare(k.Name, o.Name))
}

// Hostname is the service's global name, <name>.<namespace>.<domain>.
func (k Key) Hostname() string { return k.Name + "." + k.Namespace + "." + k.Domain }

// KeyOf returns the key of a merged global service.
func KeyOf(svc *model.GlobalService) Key {
	return Key{Namespace: svc.Namespace, Domain: svc.Domain, Name: svc.Name}
}

// ClusterEndpoints is one exporting cluster's endpoints of a global service: what the store
// writes under that cluster's endpoints key.
type ClusterEndpoints struct {
	Cluster   string           `json:"cluster"`
	Endpoints []model.Endpoint `json:"endpoints"`
	// Patch, when not nil, says how Endpoints were made from this exporter's endpoints in an
	// earlier merge with the same Memo (the export came with a patch, see
	// model.ClusterExport.EndpointsPatch), so that the store converts only what changed.
	Patch *model.EndpointsPatch `json:"-"`
}

// Service is one merged global service with each exporting cluster's endpoints, kept apart
// from the GlobalService so that the store can write them per cluster.
type Service struct {
	// Global is the merged service: hostname, scope, ports, exporters, imports, conflicts.
	Global model.GlobalService `json:"global"`
	// Endpoints holds each exporting cluster's endpoints, sorted by cluster. They are copies
	// of the exported endpoints with port names mapped onto Global.Ports and the locality's
	// cluster (and, when empty, network and region) filled from the exporting cluster.
	Endpoints []ClusterEndpoints `json:"endpoints"`
	// Built names the merge that built Global, all of it but its exporters' endpoint counts:
	// two Services of one key with the same Built have equal Globals but for those counts.
	// Merges through a Memo number themselves (Input.Memo), and a service the memo kept
	// keeps its number, so that the hub keeps the service's store record too; 0 without a
	// memo.
	Built uint64 `json:"-"`
	// Made names the merge that made the whole Service, its endpoints included: a merge given
	// Input.Same hands over a service the clusters that changed do not export, and did not, as
	// the last merge made it (its endpoints without their patches, which went out once), so
	// that the hub keeps all of its store records. 0 without a memo.
	Made uint64 `json:"-"`
}

// Key returns the service's key.
func (s *Service) Key() Key { return KeyOf(&s.Global) }

// EndpointsOf returns the endpoints the given cluster exports, or nil if it exports none.
// The slice belongs to the Service; treat it as read-only.
func (s *Service) EndpointsOf(cluster string) []model.Endpoint {
	i, ok := slices.BinarySearchFunc(s.Endpoints, cluster, func(ce ClusterEndpoints, c string) int {
		return cmp.Compare(ce.Cluster, c)
	})
	if !ok {
		return nil
	}
	return s.Endpoints[i].Endpoints
}

// EndpointsFor returns, per exporting cluster, the endpoints the client cluster may address,
// in cluster order; nil when the client does not import the service. The slices belong to
// the Service; treat them as read-only.
func (s *Service) EndpointsFor(client string) []ClusterEndpoints {
	from := Reach(s.Global.Imports).From(client)
	if from == nil {
		return nil
	}
	out := make([]ClusterEndpoints, 0, len(from))
	for _, c := range from {
		if eps := s.EndpointsOf(c); eps != nil {
			out = append(out, ClusterEndpoints{Cluster: c, Endpoints: eps})
		}
	}
	return out
}

// Result is the outcome of Merge.
type Result struct {
	// Services are the merged global services, sorted by Key.
	Services []Service `json:"services"`
	// Problems are the inputs the merge ignored or corrected, sorted.
	Problems []InputProblem `json:"problems,omitempty"`
}

// GlobalServices returns the merged global services in Key order. The returned values share
// their slices with the Result.
func (r *Result) GlobalServices() []model.GlobalService {
	out := make([]model.GlobalService, len(r.Services))
	for i := range r.Services {
		out[i] = r.Services[i].Global
	}
	return out
}

// Lookup returns the service with the given key.
func (r *Result) Lookup(k Key) (*Service, bool) {
	i, ok := slices.BinarySearchFunc(r.Services, k, func(s Service, k Key) int { return s.Key().Compare(k) })
	if !ok {
		return nil, false
	}
	return &r.Services[i], true
}
