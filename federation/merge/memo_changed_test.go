package merge

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
)

// sameClusters are the cluster names genExport draws from.
var sameClusters = []string{"a", "b", "c", "d", "e", "ghost"}

// changeClusters is in with the exports of the clusters whose bit in changed is set replaced by
// those genExport draws from data for them (the others' exports stay as they are, the same
// values with the same endpoints slices), and the Same those others make.
func changeClusters(in Input, data []byte, changed uint8) (Input, map[string]bool) {
	out := Input{Clusters: in.Clusters, Segments: in.Segments}
	same := map[string]bool{}
	for i, c := range sameClusters {
		if changed&(1<<i) == 0 {
			same[c] = true
		}
	}
	for _, e := range in.Exports {
		if same[e.Cluster] {
			out.Exports = append(out.Exports, e)
		}
	}
	g := &gen{data: data}
	for range g.next(12) {
		if e := genExport(g); !same[e.Cluster] {
			out.Exports = append(out.Exports, e)
		}
	}
	// Any order: each cluster's exports in one run, as the hub gathers them, or a changed
	// cluster's exports before, between and after the others', or runs with two exports
	// swapped.
	if len(out.Exports) > 1 {
		switch g.next(3) {
		case 0:
			k := g.next(len(out.Exports))
			out.Exports = append(out.Exports[k:], out.Exports[:k]...)
		case 1:
			slices.SortStableFunc(out.Exports, func(a, b model.ClusterExport) int { return strings.Compare(a.Cluster, b.Cluster) })
		case 2:
			slices.SortStableFunc(out.Exports, func(a, b model.ClusterExport) int { return strings.Compare(a.Cluster, b.Cluster) })
			i, j := g.next(len(out.Exports)), g.next(len(out.Exports))
			out.Exports[i], out.Exports[j] = out.Exports[j], out.Exports[i]
		}
	}
	return out, same
}

// exportedBy reports whether any of the clusters not in same exports service k in in.
func exportedBy(in Input, same map[string]bool, k Key) bool {
	return slices.ContainsFunc(in.Exports, func(e model.ClusterExport) bool {
		return !same[e.Cluster] && e.Namespace == k.Namespace && e.Name == k.Name
	})
}

// FuzzMergeSame checks that a merge given Input.Same, round after round, gives exactly what a
// merge without a memo gives, and that it hands over the services no changed cluster exports
// or exported as the last merge made them (Service.Made).
func FuzzMergeSame(f *testing.F) {
	f.Add([]byte{}, []byte{}, []byte{}, uint8(1), uint8(2))
	f.Add([]byte(strings.Repeat("\x03\x05\x01\x00\x02\x04\x07\x06\x09\x0b\x08", 20)), []byte(strings.Repeat("\x02\x01\x00\x03\x03\x01\x02\x05\x04\x0a", 30)),
		[]byte(strings.Repeat("\x01\x04\x02\x00\x05", 40)), uint8(1), uint8(4))
	f.Add([]byte(strings.Repeat("\x05\x05\x00\x01\x02\x03\x04\x00\x01\x06", 30)), []byte(strings.Repeat("\x0b\x01\x01\x03\x02\x00\x02", 30)),
		[]byte(strings.Repeat("\x0b\x03\x02\x01\x05", 30)), uint8(32), uint8(8))
	f.Fuzz(func(t *testing.T, first, second, third []byte, change1, change2 uint8) {
		memo := &Memo{}
		in := genInput(first)
		in.Memo = memo
		last := Merge(in)
		for round, step := range []struct {
			data    []byte
			changed uint8
		}{{second, change1}, {third, change2}, {nil, 0}} {
			next, same := changeClusters(in, step.data, step.changed)
			want := mustJSON(t, Merge(next))
			next.Memo, next.Same = memo, same
			got := Merge(next)
			if b := mustJSON(t, got); !bytes.Equal(b, want) {
				t.Fatalf("round %d, clusters changed %06b: merge given Same differs:\n got %s\nwant %s", round, step.changed, b, want)
			}
			// A cluster that exported a service twice counts as changed.
			for _, p := range last.Problems {
				if p.Reason == ProblemDuplicateExport {
					delete(same, p.Cluster)
				}
			}
			for _, s := range got.Services {
				k := s.Key()
				if exportedBy(in, same, k) || exportedBy(next, same, k) {
					continue
				}
				if before, ok := last.Lookup(k); ok && before.Made != s.Made && memo.lastWasChanged() {
					t.Fatalf("round %d: service %v that no changed cluster exports was made again (%d, before %d)", round, k, s.Made, before.Made)
				}
			}
			in, last = next, got
			in.Memo, in.Same = nil, nil
		}
	})
}

// lastWasChanged reports whether the memo's last merge merged only what changed.
func (m *Memo) lastWasChanged() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last != nil && m.last.partial
}

// TestMergeSame follows one federation through merges given Input.Same: which services are
// made again, and that each result is the merge's without a memo.
func TestMergeSame(t *testing.T) {
	eps := func(addrs ...string) []model.Endpoint {
		var out []model.Endpoint
		for _, a := range addrs {
			out = append(out, endpoint(a, true, "http"))
		}
		return out
	}
	export := func(cluster, name string, e []model.Endpoint) model.ClusterExport {
		return model.ClusterExport{
			Cluster: cluster, Namespace: "shop", Name: name, Scope: model.ScopeGlobal, Created: at(0),
			Ports: []model.Port{{Name: "http", Port: 80, Protocol: "TCP"}}, Endpoints: e,
		}
	}
	clusters := []model.Cluster{{Name: "a", Network: "n1"}, {Name: "b", Network: "n1"}, {Name: "c", Network: "n2"}, {Name: "d", Network: "n2"}}
	in := Input{Clusters: clusters, Exports: []model.ClusterExport{
		export("a", "x", eps("10.0.0.1")), export("b", "x", eps("10.0.1.1")),
		export("b", "y", eps("10.0.1.2")), export("c", "y", eps("10.0.2.2")),
		export("c", "z", eps("10.0.2.3")), export("d", "w", eps("10.0.3.1")),
	}}
	memo := &Memo{}
	steps := []struct {
		name    string
		change  func(in *Input)
		same    []string
		partial bool
		// madeAgain are the services made again, by name.
		madeAgain []string
	}{
		{"a's endpoints of x changed", func(in *Input) { in.Exports[0].Endpoints = eps("10.0.0.9") }, []string{"b", "c", "d"}, true, []string{"x"}},
		{"nothing changed", func(*Input) {}, []string{"a", "b", "c", "d"}, true, nil},
		{"a stops exporting x", func(in *Input) { in.Exports = in.Exports[1:] }, []string{"b", "c", "d"}, true, []string{"x"}},
		{"c exports v, its port of y renamed", func(in *Input) {
			in.Exports = append(in.Exports, export("c", "v", eps("10.0.2.9")))
			in.Exports[2].Ports = []model.Port{{Name: "web", Port: 80, Protocol: "TCP"}}
		}, []string{"a", "b", "d"}, true, []string{"v", "y"}},
		{"c exports v twice", func(in *Input) {
			in.Exports = append(in.Exports, export("c", "v", eps("10.0.2.8")))
		}, []string{"a", "b", "d"}, true, []string{"v"}},
		{"nothing changed, but c, which exported v twice, counts as changed", func(*Input) {}, []string{"a", "b", "c", "d"}, true, []string{"v", "y", "z"}},
		{"c exports v once again", func(in *Input) { in.Exports = in.Exports[:len(in.Exports)-1] }, []string{"a", "b", "d"}, true, []string{"v", "y", "z"}},
		{"b's endpoints of x changed", func(in *Input) { in.Exports[0].Endpoints = eps("10.0.1.7") }, []string{"a", "c", "d"}, true, []string{"x"}},
		{"half the clusters said to change, none did", func(*Input) {}, []string{"a", "d"}, true, nil},
		{"every cluster said to change", func(in *Input) { in.Exports[1].Endpoints = eps("10.0.1.8") }, []string{}, false, []string{"v", "w", "x", "y", "z"}},
		{"a cluster joined", func(in *Input) { in.Clusters = append(slices.Clone(in.Clusters), model.Cluster{Name: "e"}) }, []string{"a", "b", "c", "d"}, false, []string{"v", "w", "x", "y", "z"}},
	}
	in.Memo = memo
	last := Merge(in)
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			next := Input{Clusters: in.Clusters, Exports: slices.Clone(in.Exports)}
			st.change(&next)
			want := mustJSON(t, Merge(next))
			next.Memo, next.Same = memo, map[string]bool{}
			for _, c := range st.same {
				next.Same[c] = true
			}
			got := Merge(next)
			if b := mustJSON(t, got); !bytes.Equal(b, want) {
				t.Fatalf("merge given Same differs:\n got %s\nwant %s", b, want)
			}
			if memo.lastWasChanged() != st.partial {
				t.Errorf("merged only what changed: %v, want %v", memo.lastWasChanged(), st.partial)
			}
			var again []string
			for _, s := range got.Services {
				if before, ok := last.Lookup(s.Key()); !ok || before.Made != s.Made {
					again = append(again, s.Global.Name)
				}
				if s.Made == 0 {
					t.Errorf("service %s has no Made", s.Global.Name)
				}
			}
			if !slices.Equal(again, st.madeAgain) {
				t.Errorf("made again %v, want %v", again, st.madeAgain)
			}
			in, last = next, got
		})
	}
}

// FuzzSkipSame checks skipSame against scanChanged on any layout of exports: when skipSame
// takes the layout, it hands over exactly the changed clusters' exports. The counts it trusts
// are each cluster's true count, as Input.Same vouches for a same cluster's.
func FuzzSkipSame(f *testing.F) {
	f.Add([]byte("aabbbcc"), uint8(2))
	f.Add([]byte("axaabbb"), uint8(0))
	f.Add([]byte("axaaybbbay"), uint8(1))
	f.Fuzz(func(t *testing.T, layout []byte, changedBits uint8) {
		if len(layout) > 64 {
			return
		}
		names := []string{"a", "b", "c", "x", "y"}
		exports := make([]model.ClusterExport, len(layout))
		counts := map[string]int{}
		for i, b := range layout {
			c := names[int(b)%len(names)]
			exports[i] = model.ClusterExport{Cluster: c, Namespace: "n", Name: fmt.Sprint(i)}
			counts[c]++
		}
		changed := func(c string) bool { return changedBits&(1<<slices.Index(names, c)) != 0 }
		idx, _ := newIndex([]model.Cluster{{Name: "a"}, {Name: "b"}, {Name: "c"}, {Name: "x"}, {Name: "y"}}, nil)
		skipped, scanned := newGrouping(idx), newGrouping(idx)
		got, ok := skipSame(exports, counts, changed, skipped)
		want := scanChanged(exports, changed, scanned)
		if !ok {
			return
		}
		if !maps.Equal(got, want) {
			t.Fatalf("layout %q: skipSame counted %v, scanChanged %v", layout, got, want)
		}
		names2 := func(g *grouping) []string {
			var out []string
			for k := range g.groups {
				out = append(out, k.Name)
			}
			slices.Sort(out)
			return out
		}
		if a, b := names2(skipped), names2(scanned); !slices.Equal(a, b) {
			t.Fatalf("layout %q, changed %05b: skipSame took exports %v, scanChanged %v", layout, changedBits, a, b)
		}
	})
}
