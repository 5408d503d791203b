package store

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
)

// patchedStore is a large endpoints record that a test changes step by step, each version
// built from the previous one (NewEndpointsRecordAfter) and split through a splitCache, as
// the hub does.
type patchedStore struct {
	t     *testing.T
	cache splitCache
	pe    *model.PublishedEndpoints
	rec   *EndpointsRecord
	// patched counts the splits that digested only the patched endpoints.
	patched int
}

func newPatchedStore(t *testing.T, n int) *patchedStore {
	pe := largeEndpoints("shop", "cart", "east-1", n)
	slices.SortFunc(pe.Endpoints, func(a, b model.Endpoint) int { return cmp.Compare(a.Address, b.Address) })
	s := &patchedStore{t: t, pe: pe, rec: NewEndpointsRecord(pe).Freeze()}
	if _, err := s.cache.storedForm(s.rec); err != nil {
		t.Fatal(err)
	}
	return s
}

// step changes the endpoints with edit, builds the record from the previous one and checks its
// stored form against that of a record built afresh; it returns the split's error.
func (s *patchedStore) step(edit func([]model.Endpoint) []model.Endpoint) error {
	s.t.Helper()
	next := *s.pe
	next.Endpoints = edit(slices.Clone(s.pe.Endpoints))
	patch := model.PatchBetween(s.pe.Endpoints, next.Endpoints)
	rec := NewEndpointsRecordAfter(s.rec, &next, patch).Freeze()
	fresh := NewEndpointsRecord(&next)
	if !reflect.DeepEqual(rec.Endpoints, fresh.Endpoints) {
		s.t.Fatalf("record made from the previous one holds other endpoints than one made afresh")
	}
	if fps, err := s.cache.m[rec.Key().String()].patchedDigests(rec); fps != nil && err == nil {
		s.patched++
	}
	got, err := s.cache.storedForm(rec)
	want, wantErr := storedForm(fresh)
	if (err == nil) != (wantErr == nil) {
		s.t.Fatalf("split: %v; afresh: %v", err, wantErr)
	}
	if err != nil {
		return err
	}
	assertSameStored(s.t, got, want)
	s.pe, s.rec = &next, rec
	return nil
}

// assertSameStored checks two stored forms hold the same keys and values, in order.
func assertSameStored(t *testing.T, got, want []storedValue) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("stored as %d values, afresh %d", len(got), len(want))
	}
	for i := range got {
		if got[i].key != want[i].key || !bytes.Equal(got[i].val, want[i].val) || got[i].part != want[i].part {
			t.Fatalf("value %d: %s, afresh %s", i, got[i].key, want[i].key)
		}
	}
}

// TestSplitAfterPatch: a large record made from the previous one with a patch is stored byte
// for byte as one made afresh, its split digesting only the patched endpoints.
func TestSplitAfterPatch(t *testing.T) {
	flip := func(i int) func([]model.Endpoint) []model.Endpoint {
		return func(e []model.Endpoint) []model.Endpoint { e[i].Ready = !e[i].Ready; return e }
	}
	tests := []struct {
		name string
		edit func([]model.Endpoint) []model.Endpoint
		err  error
	}{
		{"nothing changed", func(e []model.Endpoint) []model.Endpoint { return e }, nil},
		{"the first endpoint flipped", flip(0), nil},
		{"one in the middle flipped", flip(1234), nil},
		{"the last flipped", flip(2999), nil},
		{"one removed", func(e []model.Endpoint) []model.Endpoint { return slices.Delete(e, 100, 101) }, nil},
		{"a run removed", func(e []model.Endpoint) []model.Endpoint { return slices.Delete(e, 100, 400) }, nil},
		{"one added", func(e []model.Endpoint) []model.Endpoint { return addEndpoint(e, 10, "10.0.0.1") }, nil},
		{"one added at the end", func(e []model.Endpoint) []model.Endpoint { return addEndpoint(e, 10, "10.99.0.1") }, nil},
		{"a label added", func(e []model.Endpoint) []model.Endpoint {
			e[500].Labels = map[string]string{"team": "blue"}
			return e
		}, nil},
		{"an endpoint with a foreign cluster", func(e []model.Endpoint) []model.Endpoint {
			e[7].Locality.Cluster = "west-2"
			return e
		}, ErrInvalidRecord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newPatchedStore(t, 3000)
			if err := s.step(tt.edit); !errors.Is(err, tt.err) {
				t.Fatalf("split: %v, want %v", err, tt.err)
			}
			if tt.err == nil && s.patched != 1 {
				t.Fatal("the split digested every endpoint again")
			}
		})
	}
}

// TestSplitAfterPatchOfAnotherRecord: a record patched from a record the writer did not split
// last is split afresh, and right.
func TestSplitAfterPatchOfAnotherRecord(t *testing.T) {
	s := newPatchedStore(t, 2000)
	other := NewEndpointsRecord(s.pe) // equal to the one split, not the same
	next := *s.pe
	next.Endpoints = slices.Clone(s.pe.Endpoints)
	next.Endpoints[3].Ready = !next.Endpoints[3].Ready
	rec := NewEndpointsRecordAfter(other, &next, model.PatchBetween(s.pe.Endpoints, next.Endpoints))
	if fps, _ := s.cache.m[rec.Key().String()].patchedDigests(rec); fps != nil {
		t.Fatal("digests patched from a record the writer did not split")
	}
	got, err := s.cache.storedForm(rec)
	if err != nil {
		t.Fatal(err)
	}
	want, err := storedForm(NewEndpointsRecord(&next))
	if err != nil {
		t.Fatal(err)
	}
	assertSameStored(t, got, want)
}

// FuzzSplitAfterPatch: over any sequence of changes to a large record, each version built from
// the previous one and split after it is stored as a version built and split afresh.
func FuzzSplitAfterPatch(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{1, 200, 1, 2, 0, 0, 3, 7, 7, 4, 9, 9, 0, 255, 255})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 60 {
			return
		}
		s := newPatchedStore(t, 1500)
		for i := 0; i+2 < len(data); i += 3 {
			op, at, n := data[i], int(data[i+1])*len(s.pe.Endpoints)/256, int(data[i+2])
			_ = s.step(func(e []model.Endpoint) []model.Endpoint { return fuzzPatchEdit(e, op, at, n) })
		}
	})
}

// fuzzPatchEdit changes the endpoints (sorted by address) from index at as op says.
func fuzzPatchEdit(e []model.Endpoint, op byte, at, n int) []model.Endpoint {
	if len(e) == 0 {
		return e
	}
	at %= len(e)
	switch op % 5 {
	case 0: // flip a run
		for i := at; i < min(len(e), at+n%20+1); i++ {
			e[i].Ready = !e[i].Ready
		}
	case 1: // remove a run
		return slices.Delete(e, at, min(len(e), at+n+1))
	case 2: // add one
		return addEndpoint(e, at, fmt.Sprintf("10.%d.%d.%d", 1+n%99, at%256, n))
	case 3: // a longer hostname (chunks grow, cuts move)
		e[at].Hostname = fmt.Sprintf("pod-%0*d", n%40+1, at)
	case 4: // an invalid endpoint: the split fails, and the next one must still be right
		e[at].Locality.Cluster = "elsewhere"
	}
	return e
}

// addEndpoint adds a copy of e[like] at addr, keeping e sorted by address with one endpoint
// per address.
func addEndpoint(e []model.Endpoint, like int, addr string) []model.Endpoint {
	ep := e[like]
	ep.Address = addr
	i, found := slices.BinarySearchFunc(e, addr, func(e model.Endpoint, a string) int { return cmp.Compare(e.Address, a) })
	if found {
		return e
	}
	return slices.Insert(e, i, ep)
}

// BenchmarkRecordAfterOneChange: a 50,000-endpoint record whose one endpoint's readiness
// flipped, converted from the model and split after the previous version, as the hub's pass
// does: "afresh" converts every endpoint and digests each to find the changed chunk (the
// pass before patches), "patched" converts, validates and digests only the changed endpoint.
func BenchmarkRecordAfterOneChange(b *testing.B) {
	for _, patched := range []bool{false, true} {
		b.Run(map[bool]string{false: "afresh", true: "patched"}[patched], func(b *testing.B) {
			// Two versions that differ in one endpoint, alternately the one stored.
			var pes [2]*model.PublishedEndpoints
			pes[0] = largeEndpoints("shop", "cart", "east-1", 50000)
			slices.SortFunc(pes[0].Endpoints, func(a, b model.Endpoint) int { return cmp.Compare(a.Address, b.Address) })
			const at = 31337
			next := *pes[0]
			next.Endpoints = slices.Clone(pes[0].Endpoints)
			next.Endpoints[at].Ready = !next.Endpoints[at].Ready
			pes[1] = &next
			var c splitCache
			rec := NewEndpointsRecord(pes[0]).Freeze()
			if _, err := c.storedForm(rec); err != nil {
				b.Fatal(err)
			}
			for i := 0; b.Loop(); i++ {
				pe := pes[(i+1)%2]
				if patched {
					p := &model.EndpointsPatch{Base: pes[i%2].Endpoints, Splices: []model.Splice{{From: at, To: at + 1, NewFrom: at, NewTo: at + 1}}}
					rec = NewEndpointsRecordAfter(rec, pe, p).Freeze()
				} else {
					rec = NewEndpointsRecord(pe).Freeze()
				}
				if _, err := c.storedForm(rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
