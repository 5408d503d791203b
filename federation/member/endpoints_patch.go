package member

import (
	"cmp"
	"slices"

	"github.com/meshfed/meshfed/federation/model"
)

// changedSlice is one EndpointSlice's endpoints before (nil for a slice new to the cache's
// entry) and after it changed.
type changedSlice struct {
	old, new []model.Endpoint
}

// patchMerged is mergeSorted(lists) computed from prev, the merge of the same slices before
// the changed ones changed: only the addresses whose endpoint changed in a changed slice are
// merged again (from every list that holds them), so a change to one slice of a large Service
// costs work in proportion to that slice, and a copy of the endpoints. It returns the merged
// endpoints and the patch that makes them from prev, or nil and nil when so many addresses
// changed that merging afresh is cheaper.
func patchMerged(prev []model.Endpoint, lists [][]model.Endpoint, changed []changedSlice) ([]model.Endpoint, *model.EndpointsPatch) {
	var addrs []string
	for _, c := range changed {
		addrs = appendChanged(addrs, c.old, c.new)
	}
	slices.Sort(addrs)
	addrs = slices.Compact(addrs)
	if len(addrs) > len(prev)/4+1 {
		return nil, nil
	}
	p := &model.EndpointsPatch{Base: prev}
	var fresh []model.Endpoint
	n := len(prev)
	for _, a := range addrs {
		at, had := slices.BinarySearchFunc(prev, a, func(e model.Endpoint, a string) int { return cmp.Compare(e.Address, a) })
		e, has := mergedAt(lists, a)
		if had && has && prev[at].Equal(&e) {
			continue
		}
		s := model.Splice{From: at, To: at, NewFrom: at + n - len(prev)}
		s.NewTo = s.NewFrom
		if had {
			s.To, n = at+1, n-1
		}
		if has {
			s.NewTo, n = s.NewFrom+1, n+1
			fresh = append(fresh, e)
		}
		p.Splices = append(p.Splices, s)
	}
	next := 0
	eps := model.ApplyPatch(p, prev, n, func(int) model.Endpoint { next++; return fresh[next-1] })
	return eps, p
}

// appendChanged appends to addrs every address whose endpoint differs between old and new,
// both sorted by address with one endpoint per address.
func appendChanged(addrs []string, old, new []model.Endpoint) []string {
	for _, s := range model.PatchBetween(old, new).Splices {
		for i := s.From; i < s.To; i++ {
			addrs = append(addrs, old[i].Address)
		}
		for i := s.NewFrom; i < s.NewTo; i++ {
			addrs = append(addrs, new[i].Address)
		}
	}
	return addrs
}

// mergedAt is what mergeSorted keeps for address a: the most ready copy of it in lists, the
// earliest list's when as ready; false when no list holds it.
func mergedAt(lists [][]model.Endpoint, a string) (model.Endpoint, bool) {
	var best *model.Endpoint
	for _, l := range lists {
		i, ok := slices.BinarySearchFunc(l, a, func(e model.Endpoint, a string) int { return cmp.Compare(e.Address, a) })
		if ok && (best == nil || rank(&l[i]) > rank(best)) {
			best = &l[i]
		}
	}
	if best == nil {
		return model.Endpoint{}, false
	}
	return *best, true
}
