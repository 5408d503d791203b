package merge

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
)

// richInput has several services, every conflict kind, mixed scopes, labels and problems.
func richInput() Input {
	labeled := endpoint("10.0.0.7", true, "http")
	labeled.Labels = map[string]string{"rack": "r1"}
	return Input{
		Clusters: append(fixtureClusters(), model.Cluster{Name: "e1", Segment: "west"}),
		Segments: append(fixtureSegments(), model.Segment{Name: "west", Domain: "other.example"}),
		Exports: []model.ClusterExport{
			export("e1", model.ScopeGlobal, 0, withType(model.ServiceTypeHeadless), withDistribution(model.ModeFailoverPriority, "rack")),
			export("e2", model.ScopeSegment, 0, withPorts(app(tcp("http", 80), "http"), udp("dns", 53)), withDistribution(model.ModeAny)),
			export("e3", model.ScopeCluster, 3, withPorts(tcp("web", 80)), withEndpoints(labeled, endpoint("10.0.0.2", false, "web"))),
			export("w1", model.ScopeGlobalOnly, 1, withTakeover()),
			export("w2", model.ScopeSegment, 1, withName("other")),
			export("n1", model.ScopeGlobal, 2, withName("other")),
			export("ghost", model.ScopeGlobal, 0),
			export("e2", model.ScopeGlobal, 9),
		},
	}
}

// shuffled returns a copy of in with clusters, segments and exports in a random order.
func shuffled(in Input, rng *rand.Rand) Input {
	out := Input{Clusters: slices.Clone(in.Clusters), Segments: slices.Clone(in.Segments), Exports: slices.Clone(in.Exports)}
	rng.Shuffle(len(out.Clusters), func(i, j int) { out.Clusters[i], out.Clusters[j] = out.Clusters[j], out.Clusters[i] })
	rng.Shuffle(len(out.Segments), func(i, j int) { out.Segments[i], out.Segments[j] = out.Segments[j], out.Segments[i] })
	rng.Shuffle(len(out.Exports), func(i, j int) { out.Exports[i], out.Exports[j] = out.Exports[j], out.Exports[i] })
	return out
}

// TestOrderIndependent: the same input in any order gives byte-identical JSON.
func TestOrderIndependent(t *testing.T) {
	in := richInput()
	want := mustJSON(t, Merge(in))
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100 {
		if got := mustJSON(t, Merge(shuffled(in, rng))); !bytes.Equal(got, want) {
			t.Fatalf("output depends on input order:\n got %s\nwant %s", got, want)
		}
	}
}

// TestNoInputMutation: Merge leaves its input as it was, and changing every part of the
// result afterwards does not reach the input either.
func TestNoInputMutation(t *testing.T) {
	in := richInput()
	r := Merge(in)
	if !reflect.DeepEqual(in, richInput()) {
		t.Fatal("Merge modified its input")
	}
	scribble(&r)
	if !reflect.DeepEqual(in, richInput()) {
		t.Fatal("the result shares memory with the input")
	}
}

// scribble overwrites every slice element and map entry reachable from the result.
func scribble(r *Result) {
	for i := range r.Services {
		s := &r.Services[i]
		g := &s.Global
		for j := range g.Ports {
			g.Ports[j].Name = "x"
		}
		for j := range g.Distribution.FailoverPriority {
			g.Distribution.FailoverPriority[j] = "x"
		}
		for j := range g.Imports {
			for k := range g.Imports[j].From {
				g.Imports[j].From[k] = "x"
			}
		}
		for j := range s.Endpoints {
			scribbleEndpoints(s.Endpoints[j].Endpoints)
		}
	}
}

// scribbleEndpoints overwrites endpoints, their ports and their labels.
func scribbleEndpoints(eps []model.Endpoint) {
	for k := range eps {
		ep := &eps[k]
		ep.Address = "x"
		for p := range ep.Ports {
			ep.Ports[p].Name = "x"
		}
		for l := range ep.Labels {
			ep.Labels[l] = "x"
		}
		ep.Locality.Zone = "x"
	}
}
