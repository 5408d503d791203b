package writeback

import (
	"fmt"
	"sync"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/model"
)

// SliceMemo remembers, per member and global service, what its MCS EndpointSlices were last
// made from and the resource versions they then had, so that a pass in which neither the
// service's endpoints nor its slices changed neither builds nor compares them: a 50,000-endpoint
// service costs a pass only when it changed. Endpoints are compared by identity (the merge keeps
// an unchanged exporter's endpoints as the same slice; a new slice only costs a rebuild). Safe
// for concurrent use by the members' writers; the zero value is ready.
type SliceMemo struct {
	mu sync.Mutex
	m  map[sliceKey]*sliceInputs
}

type sliceKey struct {
	member string
	svc    types.NamespacedName
}

// sliceInputs is what one service's slices in one member were made from.
type sliceInputs struct {
	sources  []sourceRef
	ports    string
	owner    types.UID
	versions map[string]string // slice name → resource version after the write
}

// sourceRef identifies one source cluster's endpoints: the cluster's ID and the endpoints'
// backing array and length.
type sourceRef struct {
	id    string
	first *model.Endpoint
	n     int
}

func newSliceInputs(g *model.GlobalService, sources []merge.ClusterEndpoints, ids map[string]string, owner types.UID) *sliceInputs {
	in := &sliceInputs{ports: fmt.Sprint(g.Ports), owner: owner}
	for _, s := range sources {
		r := sourceRef{id: ids[s.Cluster], n: len(s.Endpoints)}
		if len(s.Endpoints) > 0 {
			r.first = &s.Endpoints[0]
		}
		in.sources = append(in.sources, r)
	}
	return in
}

// unchanged reports whether the member's slices cur of the service were made from in and
// have not changed since.
func (m *SliceMemo) unchanged(member string, svc types.NamespacedName, in *sliceInputs, cur []*discoveryv1.EndpointSlice) bool {
	if m == nil {
		return false
	}
	m.mu.Lock()
	prev := m.m[sliceKey{member, svc}]
	m.mu.Unlock()
	if prev == nil || prev.ports != in.ports || prev.owner != in.owner || len(prev.sources) != len(in.sources) || len(prev.versions) != len(cur) {
		return false
	}
	for i := range in.sources {
		if prev.sources[i] != in.sources[i] {
			return false
		}
	}
	for _, s := range cur {
		if prev.versions[s.Name] != s.ResourceVersion {
			return false
		}
	}
	return true
}

// record remembers in, and the versions of the slices written from it, for the next pass.
func (m *SliceMemo) record(member string, svc types.NamespacedName, in *sliceInputs, versions map[string]string) {
	if m == nil {
		return
	}
	in.versions = versions
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[sliceKey]*sliceInputs{}
	}
	m.m[sliceKey{member, svc}] = in
}

// retain forgets the member's services that keep does not name (withdrawn, or no longer given
// slices), so that their endpoints are not kept alive.
func (m *SliceMemo) retain(member string, keep map[types.NamespacedName]bool) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.m {
		if k.member == member && !keep[k.svc] {
			delete(m.m, k)
		}
	}
}
