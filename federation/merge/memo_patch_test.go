package merge

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
)

// patchInput is one service exported by two clusters; cluster a's endpoints are eps.
func patchInput(eps []model.Endpoint, patch *model.EndpointsPatch) Input {
	return Input{
		Clusters: []model.Cluster{{Name: "a", Network: "n1", Region: "r1"}, {Name: "b", Network: "n2"}},
		Exports: []model.ClusterExport{
			{
				Cluster: "a", Namespace: "shop", Name: "cart", Scope: model.ScopeGlobal, Created: at(0),
				Ports: []model.Port{{Name: "http", Port: 80, Protocol: "TCP"}}, Endpoints: eps, EndpointsPatch: patch,
			},
			{
				Cluster: "b", Namespace: "shop", Name: "cart", Scope: model.ScopeGlobal, Created: at(1),
				Ports: []model.Port{{Name: "web", Port: 80, Protocol: "TCP"}}, Endpoints: []model.Endpoint{endpoint("10.9.0.1", true, "web")},
			},
		},
	}
}

// patchEndpoints is n endpoints sorted by address, every third not ready. As the member
// derives them (asIs), they name cluster a, its network and region, and serve port http, so
// that the merge's copy is the endpoints themselves; otherwise their locality is empty, they
// serve a port the service does not have, and the fifth claims another cluster.
func patchEndpoints(n int, asIs bool) []model.Endpoint {
	var eps []model.Endpoint
	for i := range n {
		ep := endpoint(fmt.Sprintf("10.0.0.%03d", i*2), i%3 != 0, "http", "metrics")
		switch {
		case asIs:
			ep = endpoint(ep.Address, ep.Ready, "http")
			ep.Locality = model.Locality{Network: "n1", Region: "r1", Cluster: "a", Zone: "z1"}
		case i == 5:
			ep.Locality.Cluster = "elsewhere"
		}
		eps = append(eps, ep)
	}
	return eps
}

// assertPatchedMerge merges next, a patch of prev, through a memo that merged prev, and checks
// it equals the merge without a memo, and that cluster a's copy is a patch of the previous.
func assertPatchedMerge(t *testing.T, memo *Memo, prev, next []model.Endpoint) ClusterEndpoints {
	t.Helper()
	first := patchInput(prev, nil)
	first.Memo = memo
	before := Merge(first).Services[0].Endpoints[0]
	patch := model.PatchBetween(prev, next)
	want := mustJSON(t, Merge(patchInput(next, patch)))
	in := patchInput(next, patch)
	in.Memo = memo
	r := Merge(in)
	if got := mustJSON(t, r); !bytes.Equal(got, want) {
		t.Fatalf("through the memo:\n got %s\nwant %s", got, want)
	}
	ce := r.Services[0].Endpoints[0]
	if len(next) == 0 {
		return ce
	}
	if ce.Patch == nil || !reflect.DeepEqual(ce.Patch.Splices, patch.Splices) || len(ce.Patch.Base) != len(before.Endpoints) ||
		(len(before.Endpoints) > 0 && &ce.Patch.Base[0] != &before.Endpoints[0]) {
		t.Fatalf("the copy is not a patch of the previous copy: %+v", ce.Patch)
	}
	// Outside the splices, the copies are the previous merge's.
	at := 0
	for _, s := range patch.Splices {
		for i := at; i < s.From; i++ {
			if j := i + s.NewFrom - s.From; !reflect.DeepEqual(ce.Endpoints[j], before.Endpoints[i]) {
				t.Fatalf("endpoint %d outside the splices differs", j)
			}
		}
		at = s.To
	}
	return ce
}

// TestMemoPatch: an export that comes with a patch of the endpoints the memo copied is merged
// as without the memo, its copy a patch of the previous one.
func TestMemoPatch(t *testing.T) {
	base := patchEndpoints(12, false)
	with := func(f func([]model.Endpoint) []model.Endpoint) []model.Endpoint {
		return f(append([]model.Endpoint(nil), base...))
	}
	tests := []struct {
		name string
		next []model.Endpoint
	}{
		{"nothing changed", with(func(e []model.Endpoint) []model.Endpoint { return e })},
		{"readiness flipped", with(func(e []model.Endpoint) []model.Endpoint { e[4].Ready = !e[4].Ready; return e })},
		{"the foreign endpoint removed", with(func(e []model.Endpoint) []model.Endpoint { return append(e[:5:5], e[6:]...) })},
		{"a foreign endpoint added", with(func(e []model.Endpoint) []model.Endpoint {
			ep := endpoint("10.0.0.001", true, "http")
			ep.Locality.Cluster = "b"
			return append(e[:1:1], append([]model.Endpoint{ep}, e[1:]...)...)
		})},
		{"added at the end", with(func(e []model.Endpoint) []model.Endpoint { return append(e, endpoint("10.0.0.999", false, "http")) })},
		{"all removed", nil},
		{"a port renamed", with(func(e []model.Endpoint) []model.Endpoint {
			e[0].Ports = []model.EndpointPort{{Name: "metrics", Port: 1}}
			return e
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertPatchedMerge(t, &Memo{}, base, tt.next)
		})
	}
	// The same changes to endpoints as the member derives them: the copy is the export's
	// endpoints (but for a renamed port), before and after.
	base = patchEndpoints(12, true)
	for _, tt := range tests {
		t.Run(tt.name+", as derived", func(t *testing.T) {
			memo := &Memo{}
			next := with(func(e []model.Endpoint) []model.Endpoint { return tt.next })
			if tt.next != nil {
				next = with(func(e []model.Endpoint) []model.Endpoint { return asDerived(tt.next) })
			}
			ce := assertPatchedMerge(t, memo, base, next)
			shared := len(next) > 0 && &ce.Endpoints[0] == &next[0]
			if want := len(next) > 0 && tt.name != "a port renamed" && tt.name != "a foreign endpoint added"; shared != want {
				t.Errorf("the copy is the export's endpoints: %v, want %v", shared, want)
			}
		})
	}
}

// asDerived is the endpoints with their locality and ports made as patchEndpoints(n, true)
// makes them, but where a test set another cluster or ports.
func asDerived(eps []model.Endpoint) []model.Endpoint {
	out := slices.Clone(eps)
	for i := range out {
		l := &out[i].Locality
		if l.Cluster == "" || l.Cluster == "elsewhere" {
			*l = model.Locality{Network: "n1", Region: "r1", Cluster: "a", Zone: "z1"}
		}
		if len(out[i].Ports) == 2 || out[i].Ports == nil {
			out[i].Ports = []model.EndpointPort{{Name: "http", Port: 8080}}
		}
	}
	return out
}

// TestMemoIgnoresPatchOfOtherEndpoints: a patch against endpoints the memo did not copy, or that
// does not fit, is not applied.
func TestMemoIgnoresPatchOfOtherEndpoints(t *testing.T) {
	base := patchEndpoints(6, false)
	next := append([]model.Endpoint(nil), base...)
	next[2].Ready = !next[2].Ready
	for name, patch := range map[string]*model.EndpointsPatch{
		"another base":   model.PatchBetween(append([]model.Endpoint(nil), base...), next),
		"does not fit":   {Base: base, Splices: []model.Splice{{From: 2, To: 3, NewFrom: 2, NewTo: 4}}},
		"splices no one": {Base: base},
	} {
		t.Run(name, func(t *testing.T) {
			memo := &Memo{}
			first := patchInput(base, nil)
			first.Memo = memo
			Merge(first)
			in := patchInput(next, patch)
			want := mustJSON(t, Merge(in))
			in.Memo = memo
			r := Merge(in)
			if got := mustJSON(t, r); name != "splices no one" && !bytes.Equal(got, want) {
				t.Fatalf("through the memo:\n got %s\nwant %s", got, want)
			}
			if name != "splices no one" && r.Services[0].Endpoints[0].Patch != nil {
				t.Fatal("the copy is a patch")
			}
		})
	}
}

// FuzzMemoPatch: over any sequence of patched exports (endpoints added, removed, flipped,
// moved to another cluster in their locality, their ports renamed), merging through the memo
// equals merging without it.
func FuzzMemoPatch(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{2, 9, 2, 8, 3, 0, 3, 0, 1, 5, 4, 4})
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &gen{data: data}
		memo := &Memo{}
		prev := patchEndpoints(1+g.next(10), g.next(2) == 0)
		for len(g.data) > 0 {
			next := append([]model.Endpoint(nil), prev...)
			for range 1 + g.next(3) {
				next = fuzzPatchEdit(g, next)
			}
			assertPatchedMerge(t, memo, prev, next)
			prev = next
		}
	})
}

// fuzzPatchEdit changes one endpoint of eps (sorted by address) as g says.
func fuzzPatchEdit(g *gen, eps []model.Endpoint) []model.Endpoint {
	if len(eps) == 0 {
		return []model.Endpoint{endpoint("10.0.0.500", true, "http")}
	}
	i := g.next(len(eps))
	switch g.next(5) {
	case 0:
		eps[i].Ready = !eps[i].Ready
	case 1:
		return append(eps[:i:i], eps[i+1:]...)
	case 2:
		// An address after eps[i]'s, kept only when it is before the next one.
		ep := endpoint(eps[i].Address+"1", g.next(2) == 0, pick(g, "http", "metrics", "other"))
		if i+1 < len(eps) && eps[i+1].Address <= ep.Address {
			return eps
		}
		return append(eps[:i+1:i+1], append([]model.Endpoint{ep}, eps[i+1:]...)...)
	case 3:
		eps[i].Locality.Cluster = pick(g, "", "a", "b", "x")
	case 4:
		eps[i].Ports = []model.EndpointPort{{Name: pick(g, "http", "metrics", "other"), Port: int32(g.next(3))}}
	}
	return eps
}

// BenchmarkMemoLargeOneChange: merging a 50,000-endpoint export whose one endpoint's readiness
// flipped since the last merge, through the memo. "copy": without a patch, every endpoint is
// copied (what every such merge did before patches); "patched": endpoints as the hub's member
// derives them, with the member's patch: the copy is the export's endpoints, and only the
// changed endpoint is looked at.
func BenchmarkMemoLargeOneChange(b *testing.B) {
	for _, patched := range []bool{false, true} {
		b.Run(map[bool]string{false: "copy", true: "patched"}[patched], func(b *testing.B) {
			memo := &Memo{}
			// Two lists that differ in one endpoint, alternately the export's.
			var lists [2][]model.Endpoint
			lists[0] = make([]model.Endpoint, 50000)
			for i := range lists[0] {
				lists[0][i] = endpoint(fmt.Sprintf("10.%03d.%03d.%03d", i/65536, i/256%256, i%256), i%7 != 0, "http")
				lists[0][i].Locality = model.Locality{Zone: "eu-west-1a", Node: fmt.Sprintf("node-%d", i%300)}
				if patched {
					lists[0][i].Locality = model.Locality{Network: "n1", Region: "r1", Cluster: "a", Zone: "eu-west-1a", Node: fmt.Sprintf("node-%d", i%300)}
				}
			}
			const at = 31337
			lists[1] = slices.Clone(lists[0])
			lists[1][at].Ready = !lists[1][at].Ready
			in := patchInput(lists[0], nil)
			in.Memo = memo
			Merge(in)
			for i := 0; b.Loop(); i++ {
				var p *model.EndpointsPatch
				if patched {
					p = &model.EndpointsPatch{Base: lists[i%2], Splices: []model.Splice{{From: at, To: at + 1, NewFrom: at, NewTo: at + 1}}}
				}
				in := patchInput(lists[(i+1)%2], p)
				in.Memo = memo
				Merge(in)
			}
		})
	}
}
