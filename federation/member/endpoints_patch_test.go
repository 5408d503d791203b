package member

import (
	"fmt"
	"reflect"
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/meshfed/meshfed/federation/model"
)

// patchWorld is a Service's EndpointSlices that a test changes step by step, feeding each
// state to a cache and checking the cache's answer against EndpointsFromSlices.
type patchWorld struct {
	t      *testing.T
	cache  EndpointsCache
	slices []discoveryv1.EndpointSlice
	rv     int
	last   []model.Endpoint
	// patched counts the answers that were a patch of the previous one.
	patched int
}

var patchKey = types.NamespacedName{Namespace: "shop", Name: "big"}

func newPatchWorld(t *testing.T, nSlices, perSlice int) *patchWorld {
	w := &patchWorld{t: t}
	for s := range nSlices {
		sl := discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: fmt.Sprintf("big-%02d", s), UID: types.UID(fmt.Sprint("uid-", s)), ResourceVersion: "1"},
			AddressType: discoveryv1.AddressTypeIPv4,
		}
		for i := range perSlice {
			sl.Endpoints = append(sl.Endpoints, discoveryv1.Endpoint{
				Addresses: []string{fmt.Sprintf("10.0.%d.%d", s, i*3)}, NodeName: ptr(fmt.Sprint("n", i%3)),
				Conditions: discoveryv1.EndpointConditions{Ready: ptr(i%4 != 0)},
			})
		}
		w.slices = append(w.slices, sl)
	}
	w.check()
	return w
}

// edit changes slice s with f and gives it a new resourceVersion.
func (w *patchWorld) edit(s int, f func(*discoveryv1.EndpointSlice)) {
	sl := w.slices[s].DeepCopy()
	f(sl)
	w.rv++
	sl.ResourceVersion = fmt.Sprint("rv-", w.rv)
	w.slices[s] = *sl
}

// check derives the endpoints through the cache and compares them with a fresh derivation,
// and a patch, when there is one, with the previous answer.
func (w *patchWorld) check() {
	w.t.Helper()
	site := Site{Cluster: "east-1", Network: "net-a", Region: "r"}
	got, patch := w.cache.endpoints(patchKey, site, w.slices, nil, 0)
	want := EndpointsFromSlices(site, w.slices, nil)
	if !reflect.DeepEqual(got, want) {
		w.t.Fatalf("cache derived %d endpoints %+v\nwant %d %+v", len(got), got, len(want), want)
	}
	if patch != nil && w.last != nil && (len(got) == 0 || len(w.last) == 0 || &got[0] != &w.last[0]) {
		if !sameList(patch.Base, w.last) || !patch.Fits(len(got)) {
			w.t.Fatalf("patch %+v is not a patch of the previous answer into %d endpoints", patch.Splices, len(got))
		}
		w.patched++
		assertPatchMakes(w.t, patch, got)
	}
	w.last = got
}

// assertPatchMakes checks that the endpoints outside the patch's splices are Base's.
func assertPatchMakes(t *testing.T, p *model.EndpointsPatch, got []model.Endpoint) {
	t.Helper()
	rebuilt := model.ApplyPatch(p, p.Base, len(got), func(i int) model.Endpoint { return got[i] })
	if !reflect.DeepEqual(rebuilt, got) {
		t.Fatalf("the patch's unchanged runs differ from the endpoints: %+v", p.Splices)
	}
}

func sameList(a, b []model.Endpoint) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// TestEndpointsCachePatchesChangedSlices: a change to some slices of a Service gives the
// endpoints a fresh derivation gives, as a patch of the previous ones.
func TestEndpointsCachePatchesChangedSlices(t *testing.T) {
	flip := func(i int) func(*discoveryv1.EndpointSlice) {
		return func(s *discoveryv1.EndpointSlice) {
			r := s.Endpoints[i].Conditions.Ready
			s.Endpoints[i].Conditions.Ready = ptr(r != nil && !*r)
		}
	}
	add := func(addr string, ready bool) func(*discoveryv1.EndpointSlice) {
		return func(s *discoveryv1.EndpointSlice) {
			s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{addr}, Conditions: discoveryv1.EndpointConditions{Ready: ptr(ready)}})
		}
	}
	remove := func(i int) func(*discoveryv1.EndpointSlice) {
		return func(s *discoveryv1.EndpointSlice) { s.Endpoints = append(s.Endpoints[:i:i], s.Endpoints[i+1:]...) }
	}
	type step struct {
		slice int
		f     func(*discoveryv1.EndpointSlice)
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"one readiness flip", []step{{3, flip(2)}}},
		{"flips in two slices in one pass", []step{{0, flip(0)}, {4, flip(5)}}},
		{"an endpoint added at the front", []step{{0, add("1.0.0.1", true)}}},
		{"an endpoint added at the end", []step{{2, add("99.0.0.1", true)}}},
		{"two endpoints added next to each other", []step{{1, add("10.0.1.1", true)}, {2, add("10.0.1.2", true)}}},
		{"an endpoint removed", []step{{1, remove(3)}}},
		{"every endpoint of a slice removed", []step{{1, func(s *discoveryv1.EndpointSlice) { s.Endpoints = nil }}}},
		{"a ready copy of an address in another slice wins", []step{{4, add("10.0.1.0", true)}}},
		{"a not ready copy of an address in another slice loses", []step{{4, add("10.0.1.3", false)}}},
		{"an address moves to another slice", []step{{1, remove(1)}, {2, add("10.0.1.3", true)}}},
		{"a hostname set", []step{{0, func(s *discoveryv1.EndpointSlice) { s.Endpoints[1].Hostname = ptr("web-1") }}}},
		{"a slice of FQDN addresses", []step{{0, func(s *discoveryv1.EndpointSlice) { s.AddressType = discoveryv1.AddressTypeFQDN }}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newPatchWorld(t, 6, 8)
			for _, s := range tt.steps {
				w.edit(s.slice, s.f)
			}
			w.check()
			if w.patched != 1 {
				t.Errorf("the change was not answered with a patch")
			}
		})
	}
}

// FuzzEndpointsCachePatch: over any sequence of changes to a Service's slices (readiness
// flips, endpoints added, removed or copied into another slice, passes with several slices
// changed), the cache derives what a fresh derivation does.
func FuzzEndpointsCachePatch(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{3, 3, 3, 250, 17, 33, 64, 129, 200, 1, 0, 0, 7})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 300 {
			return
		}
		w := newPatchWorld(t, 5, 6)
		for i := 0; i+2 < len(ops); i += 3 {
			op, s, arg := ops[i], int(ops[i+1])%len(w.slices), int(ops[i+2])
			w.edit(s, func(sl *discoveryv1.EndpointSlice) { fuzzEdit(sl, op, arg) })
			if op&0x80 == 0 { // otherwise the next change lands in the same pass
				w.check()
			}
		}
		w.check()
	})
}

// fuzzEdit changes one slice as op and arg say.
func fuzzEdit(sl *discoveryv1.EndpointSlice, op byte, arg int) {
	n := len(sl.Endpoints)
	switch op % 5 {
	case 0, 1: // flip readiness
		if n > 0 {
			r := sl.Endpoints[arg%n].Conditions.Ready
			sl.Endpoints[arg%n].Conditions.Ready = ptr(r != nil && !*r)
		}
	case 2: // add an address, maybe one another slice holds
		sl.Endpoints = append(sl.Endpoints, discoveryv1.Endpoint{
			Addresses: []string{fmt.Sprintf("10.0.%d.%d", arg%6, arg/6%20)}, NodeName: ptr(fmt.Sprint("n", arg%2)),
			Conditions: discoveryv1.EndpointConditions{Ready: ptr(arg%3 != 0)},
		})
	case 3: // remove one
		if n > 0 {
			sl.Endpoints = append(sl.Endpoints[:arg%n:arg%n], sl.Endpoints[arg%n+1:]...)
		}
	case 4: // move to another node
		if n > 0 {
			sl.Endpoints[arg%n].NodeName = ptr(fmt.Sprint("n", arg%4))
		}
	}
}
