package controller

import (
	"slices"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
)

// TestExportsBuffer fills the buffer pass after pass: a reused member's exports are left in
// place when they come where the last pass put them, copied otherwise; every pass's list is
// the members' exports in order, whatever moved before.
func TestExportsBuffer(t *testing.T) {
	derived := func(cluster string, n int) *memberDerived {
		d := &memberDerived{from: derivedFrom{}}
		d.from.site.Cluster = cluster
		for i := range n {
			d.exports = append(d.exports, model.ClusterExport{Cluster: cluster, Namespace: "ns", Name: string(rune('a' + i))})
		}
		return d
	}
	a, b, c := derived("a", 3), derived("b", 2), derived("c", 4)
	var buf exportsBuffer
	type member struct {
		d      *memberDerived
		reused bool
	}
	// pass fills a pass's list and returns which members were left in place.
	pass := func(members ...member) []bool {
		t.Helper()
		fill, list := buf.fill()
		var want []model.ClusterExport
		var inPlace []bool
		for _, m := range members {
			kept := fill.kept
			list = fill.add(list, m.d.from.site.Cluster, m.d, m.d.exports, m.reused)
			want = append(want, m.d.exports...)
			inPlace = append(inPlace, fill.kept > kept)
		}
		fill.done(list)
		if !slices.EqualFunc(list, want, func(x, y model.ClusterExport) bool { return x.Cluster == y.Cluster && x.Name == y.Name }) {
			t.Fatalf("list %v, want %v", list, want)
		}
		return inPlace
	}
	pass(member{a, false}, member{b, false}, member{c, false})
	pass(member{a, true}, member{b, true}, member{c, true}) // placed from their derivations
	if inPlace := pass(member{a, true}, member{b, true}, member{c, true}); !slices.Equal(inPlace, []bool{true, true, true}) {
		t.Errorf("members reused at their places: in place %v, want all", inPlace)
	}
	// b is derived again with one export more: c moves and is copied; a stays.
	b2 := derived("b", 3)
	if inPlace := pass(member{a, true}, member{b2, false}, member{c, true}); !slices.Equal(inPlace, []bool{true, false, false}) {
		t.Errorf("as b grew: in place %v, want a alone", inPlace)
	}
	// c was copied to its new place: the pass after keeps it there; b2 was placed with its
	// pass's patches, so it is copied once more.
	if inPlace := pass(member{a, true}, member{b2, true}, member{c, true}); !slices.Equal(inPlace, []bool{true, false, true}) {
		t.Errorf("after b grew: in place %v, want a and c", inPlace)
	}
	// A member gone: c moves up and is copied.
	if inPlace := pass(member{a, true}, member{c, true}); !slices.Equal(inPlace, []bool{true, false}) {
		t.Errorf("after b left: in place %v, want a alone", inPlace)
	}
	// A list that outgrows the buffer is moved by append: the pass after reuses the new one.
	many := derived("d", 20)
	pass(member{many, true}, member{a, true})
	if inPlace := pass(member{many, true}, member{a, true}); !slices.Equal(inPlace, []bool{true, true}) {
		t.Errorf("in the new buffer: in place %v, want both", inPlace)
	}
}
