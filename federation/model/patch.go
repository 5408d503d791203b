package model

import (
	"maps"
	"slices"
)

// EndpointsPatch says how a list of endpoints was made from an earlier one, Base, so that what
// was derived from Base endpoint by endpoint can be derived for the new list by deriving again
// only the endpoints that changed. The new list is Base with each splice's run of Base
// replaced by its run of the new list; every endpoint outside the splices is equal to Base's,
// in the same order. The hub's stages (member, merge, store) each keep what they derived from
// a large service's endpoints and, handed a patch against the list they derived it from, patch
// it instead of deriving all of it again. Base is shared and read only.
type EndpointsPatch struct {
	Base    []Endpoint
	Splices []Splice
}

// Splice replaces Base[From:To] by the new list's [NewFrom:NewTo]. The splices of a patch are
// in order and apart: each starts at or after the previous one's To and NewTo.
type Splice struct {
	From, To, NewFrom, NewTo int
}

// Fits reports whether p is a patch of Base into a list of n endpoints: its splices in order,
// inside both lists, and the runs between them of equal length. A patch that does not fit is
// not applied (callers derive the list afresh).
func (p *EndpointsPatch) Fits(n int) bool {
	if p == nil {
		return false
	}
	at, newAt := 0, 0
	for _, s := range p.Splices {
		if s.From < at || s.To < s.From || s.NewFrom < newAt || s.NewTo < s.NewFrom || s.From-at != s.NewFrom-newAt {
			return false
		}
		at, newAt = s.To, s.NewTo
	}
	return at <= len(p.Base) && newAt <= n && len(p.Base)-at == n-newAt
}

// Changed is the number of endpoints of the new list inside the splices.
func (p *EndpointsPatch) Changed() int {
	n := 0
	for _, s := range p.Splices {
		n += s.NewTo - s.NewFrom
	}
	return n
}

// ApplyPatch derives what is aligned with the new list of n endpoints (one T per endpoint, in
// order) from prev, aligned with p.Base: prev's values outside the splices, derive(i) for the
// new list's endpoint i inside them. p must fit n (Fits) and prev be as long as p.Base.
func ApplyPatch[T any](p *EndpointsPatch, prev []T, n int, derive func(i int) T) []T {
	out := make([]T, 0, n)
	at := 0
	for _, s := range p.Splices {
		out = append(out, prev[at:s.From]...)
		for i := s.NewFrom; i < s.NewTo; i++ {
			out = append(out, derive(i))
		}
		at = s.To
	}
	return append(out, prev[at:]...)
}

// Equal reports whether two endpoints hold the same values (a nil and an empty slice or map
// are not told apart).
func (e *Endpoint) Equal(o *Endpoint) bool {
	return e.Address == o.Address && e.Hostname == o.Hostname && e.Locality == o.Locality &&
		e.Ready == o.Ready && e.Serving == o.Serving && e.Terminating == o.Terminating &&
		e.Weight == o.Weight && slices.Equal(e.Ports, o.Ports) && maps.Equal(e.Labels, o.Labels)
}

// PatchBetween is the patch that makes to from base, both sorted by address with one endpoint
// per address: a splice for every address whose endpoint differs (added, removed or not
// Equal). It walks both lists; the hub's stages make their patches from what changed instead,
// and check theirs against this one in tests.
func PatchBetween(base, to []Endpoint) *EndpointsPatch {
	p := &EndpointsPatch{Base: base}
	i, j := 0, 0
	for i < len(base) || j < len(to) {
		switch {
		case j == len(to) || i < len(base) && base[i].Address < to[j].Address:
			p.Splices = append(p.Splices, Splice{From: i, To: i + 1, NewFrom: j, NewTo: j})
			i++
		case i == len(base) || to[j].Address < base[i].Address:
			p.Splices = append(p.Splices, Splice{From: i, To: i, NewFrom: j, NewTo: j + 1})
			j++
		default:
			if !base[i].Equal(&to[j]) {
				p.Splices = append(p.Splices, Splice{From: i, To: i + 1, NewFrom: j, NewTo: j + 1})
			}
			i, j = i+1, j+1
		}
	}
	return p
}
