package merge

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
)

// gen draws small choices from fuzz bytes; once they run out every choice is 0.
type gen struct{ data []byte }

// next returns a number in [0, n).
func (g *gen) next(n int) int {
	if len(g.data) == 0 {
		return 0
	}
	b := g.data[0]
	g.data = g.data[1:]
	return int(b) % n
}

// pick returns one of the values.
func pick[T any](g *gen, values ...T) T { return values[g.next(len(values))] }

// genInput builds an input from fuzz bytes, over small name pools so that services, duplicates,
// conflicts and unknown clusters are all likely.
func genInput(data []byte) Input {
	g := &gen{data: data}
	var in Input
	for range g.next(4) {
		in.Segments = append(in.Segments, model.Segment{Name: pick(g, "s1", "s2", "s3"), Domain: pick(g, "", "d1", "d2")})
	}
	for range 1 + g.next(6) {
		in.Clusters = append(in.Clusters, model.Cluster{
			Name: pick(g, "a", "b", "c", "d", "e", ""), Segment: pick(g, "s1", "s2", "s3", ""),
			Network: pick(g, "n1", "n2"), Region: pick(g, "", "r1"),
		})
	}
	for range g.next(12) {
		in.Exports = append(in.Exports, genExport(g))
	}
	return in
}

// genExport builds one export.
func genExport(g *gen) model.ClusterExport {
	e := model.ClusterExport{
		Cluster: pick(g, "a", "b", "c", "d", "e", "ghost"), Namespace: pick(g, "n1", "n2", ""), Name: pick(g, "x", "y"),
		Scope:    pick(g, model.ScopeGlobal, model.ScopeCluster, model.ScopeSegment, model.ScopeGlobalOnly, "bad"),
		Takeover: pick(g, false, true), Created: at(g.next(3)),
		Type: pick(g, model.ServiceTypeClusterSetIP, model.ServiceTypeHeadless, ""),
	}
	for range g.next(4) {
		e.Ports = append(e.Ports, model.Port{
			Name: pick(g, "http", "", "grpc"), Port: pick[int32](g, 80, 81, 53),
			Protocol: pick(g, "TCP", "", "UDP"), AppProtocol: pick(g, "", "http"),
		})
	}
	if e.DistributionSet = pick(g, false, true); e.DistributionSet {
		e.Distribution = model.Distribution{Mode: pick(g, model.ModeAny, model.ModePreferClose, model.ModeFailoverPriority)}
		if e.Distribution.Mode == model.ModeFailoverPriority {
			e.Distribution.FailoverPriority = pick(g, []string{"k"}, []string{"k", "j"}, nil)
		}
	}
	e.Properties = model.ServiceProperties{
		SessionAffinity: pick(g, "", "None", "ClientIP"), InternalTrafficPolicy: pick(g, "", "Cluster", "Local"),
		TrafficDistribution: pick(g, "", "PreferClose"), IPFamilies: pick(g, nil, []string{"IPv4"}, []string{"IPv6", "IPv4"}),
	}
	if e.Properties.SessionAffinity == "ClientIP" {
		e.Properties.SessionAffinityTimeout = pick(g, nil, new(int32(10)), new(int32(20)))
	}
	for range g.next(3) {
		ep := endpoint(pick(g, "10.0.0.1", "10.0.0.2", "10.0.0.3"), pick(g, true, false), pick(g, "http", "grpc", "", "other"))
		ep.Locality.Cluster = pick(g, "", e.Cluster, "a")
		ep.Labels = pick(g, map[string]string(nil), map[string]string{"k": "v"})
		e.Endpoints = append(e.Endpoints, ep)
	}
	return e
}

// fuzzSeeds are starting inputs: empty, small, and a long run of varied bytes.
func fuzzSeeds(f *testing.F) {
	f.Add([]byte{}, uint64(0))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, uint64(1))
	f.Add([]byte(strings.Repeat("\x03\x05\x01\x00\x02\x04\x07\x06\x09\x0b\x08", 20)), uint64(7))
	f.Add([]byte(strings.Repeat("\x02\x01\x00\x03\x03\x01\x02\x05\x04\x0a", 30)), uint64(42))
}

// FuzzMergeOrder: shuffling clusters, segments and exports never changes the JSON output.
func FuzzMergeOrder(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		in := genInput(data)
		want := mustJSON(t, Merge(in))
		got := mustJSON(t, Merge(shuffled(in, rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)))))
		if !bytes.Equal(got, want) {
			t.Fatalf("output depends on input order:\n got %s\nwant %s", got, want)
		}
	})
}

// FuzzMergeInvariants: sorted output, every export merged or reported, imports only into
// member clusters and exactly as each exporter's scope allows, unique merged ports, and the
// input left untouched.
func FuzzMergeInvariants(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte, _ uint64) {
		in := genInput(data)
		r := Merge(in)
		for _, err := range checkInvariants(in, r) {
			t.Error(err)
		}
		if !reflect.DeepEqual(in, genInput(data)) {
			t.Error("Merge modified its input")
		}
	})
}

// FuzzMergeMemo: merges through a memo give what merges without it give, over a second input
// that hands over some of the first input's endpoint slices (as the hub's member connections
// do while a Service's slices stay the same) with its own ports, clusters and scopes; and
// merging the second input again through the memo gives the same once more.
func FuzzMergeMemo(f *testing.F) {
	f.Add([]byte{}, []byte{}, uint64(0))
	f.Add([]byte(strings.Repeat("\x03\x05\x01\x00\x02\x04\x07\x06\x09\x0b\x08", 20)), []byte(strings.Repeat("\x02\x01\x00\x03\x03\x01\x02\x05\x04\x0a", 30)), uint64(7))
	f.Add([]byte(strings.Repeat("\x02\x01\x00\x03\x03\x01\x02\x05\x04\x0a", 30)), []byte(strings.Repeat("\x02\x01\x00\x03\x03\x01\x02\x05\x04\x0a", 30)), uint64(3))
	f.Fuzz(func(t *testing.T, first, second []byte, reuse uint64) {
		memo := &Memo{}
		in1 := genInput(first)
		in1.Memo = memo
		Merge(in1)
		in2 := genInput(second)
		for i := range in2.Exports {
			if i < len(in1.Exports) && reuse&(1<<(i%64)) != 0 {
				old := &in1.Exports[i]
				e := &in2.Exports[i]
				e.Cluster, e.Namespace, e.Name, e.Endpoints = old.Cluster, old.Namespace, old.Name, old.Endpoints
			}
		}
		want := mustJSON(t, Merge(in2))
		in2.Memo = memo
		for round := range 2 {
			if got := mustJSON(t, Merge(in2)); !bytes.Equal(got, want) {
				t.Fatalf("round %d: merge through the memo differs:\n got %s\nwant %s", round, got, want)
			}
		}
	})
}
