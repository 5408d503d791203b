package model

import (
	"fmt"
	"reflect"
	"testing"
)

// TestPatchBetween: the patch between two lists makes the second from the first, and fits it.
func TestPatchBetween(t *testing.T) {
	ep := func(addr string, ready bool) Endpoint { return Endpoint{Address: addr, Ready: ready} }
	tests := []struct {
		name     string
		base, to []Endpoint
		splices  int
	}{
		{"equal", []Endpoint{ep("a", true), ep("b", true)}, []Endpoint{ep("a", true), ep("b", true)}, 0},
		{"one changed", []Endpoint{ep("a", true), ep("b", true)}, []Endpoint{ep("a", true), ep("b", false)}, 1},
		{"added in front", []Endpoint{ep("b", true)}, []Endpoint{ep("a", true), ep("b", true)}, 1},
		{"removed at the end", []Endpoint{ep("a", true), ep("b", true)}, []Endpoint{ep("a", true)}, 1},
		{"from nothing", nil, []Endpoint{ep("a", true)}, 1},
		{"to nothing", []Endpoint{ep("a", true)}, nil, 1},
		{"replaced", []Endpoint{ep("a", true), ep("c", true)}, []Endpoint{ep("b", true), ep("c", true), ep("d", true)}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := PatchBetween(tt.base, tt.to)
			if len(p.Splices) != tt.splices || !p.Fits(len(tt.to)) {
				t.Fatalf("splices %+v (want %d), fits %v", p.Splices, tt.splices, p.Fits(len(tt.to)))
			}
			got := ApplyPatch(p, tt.base, len(tt.to), func(i int) Endpoint { return tt.to[i] })
			if len(got) != len(tt.to) || (len(got) > 0 && !reflect.DeepEqual(got, tt.to)) {
				t.Fatalf("patched %+v, want %+v", got, tt.to)
			}
		})
	}
}

// TestPatchFits: splices out of order, out of either list or with runs between them of
// different lengths do not fit.
func TestPatchFits(t *testing.T) {
	base := make([]Endpoint, 4)
	for i := range base {
		base[i].Address = fmt.Sprint(i)
	}
	tests := []struct {
		name    string
		splices []Splice
		n       int
		fits    bool
	}{
		{"none", nil, 4, true},
		{"none, another length", nil, 5, false},
		{"one replaced", []Splice{{1, 2, 1, 2}}, 4, true},
		{"one added", []Splice{{1, 1, 1, 2}}, 5, true},
		{"out of order", []Splice{{2, 3, 2, 3}, {0, 1, 0, 1}}, 4, false},
		{"past the base", []Splice{{3, 5, 3, 5}}, 5, false},
		{"runs of different lengths", []Splice{{1, 2, 2, 3}}, 5, false},
		{"reversed", []Splice{{2, 1, 2, 1}}, 4, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &EndpointsPatch{Base: base, Splices: tt.splices}
			if got := p.Fits(tt.n); got != tt.fits {
				t.Fatalf("Fits(%d) = %v, want %v", tt.n, got, tt.fits)
			}
		})
	}
	if (*EndpointsPatch)(nil).Fits(0) {
		t.Fatal("a nil patch fits")
	}
}
