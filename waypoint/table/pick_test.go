package table

import (
	"strconv"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/priority"
	"github.com/meshfed/meshfed/waypoint/balance"
)

// TestRetryLeavesTriedTiers: tiers of two, two and one endpoints; after a failed try in tier 0
// a retry goes to tier 1, after failures in tiers 0 and 1 to tier 2; with every tier tried, a
// retry still finds an endpoint not tried yet.
func TestRetryLeavesTriedTiers(t *testing.T) {
	eps := make([]model.Endpoint, 5)
	r := &Route{Endpoints: eps, Tiers: priority.Tiers{Of: []int{0, 0, 1, 1, 2}, Members: [][]int{{0, 1}, {2, 3}, {4}}}}
	for i := range eps {
		eps[i] = model.Endpoint{Address: "10.0.0." + strconv.Itoa(i+1), Ready: true, Serving: true}
		r.hosts = append(r.hosts, balance.NewHost(strconv.Itoa(i), "", ""))
	}
	r.ejected = make([]bool, len(eps))
	p := NewPicker(7)
	r.Plan = priority.NewPlan(eps, r.Tiers, func(int) bool { return false }, priority.LoadOptions{})
	tierOf := func(h *balance.Host) int { return r.Tiers.Of[int(h.Key()[0]-'0')] }
	for range 200 {
		first, ok := p.Pick(r, nil)
		if !ok || tierOf(first) != 0 {
			t.Fatalf("first try in tier %d", tierOf(first))
		}
		second, _ := p.Pick(r, []*balance.Host{first})
		if tierOf(second) != 1 {
			t.Fatalf("retry after a failure in tier 0 went to tier %d", tierOf(second))
		}
		third, _ := p.Pick(r, []*balance.Host{first, second})
		if tierOf(third) != 2 {
			t.Fatalf("retry after failures in tiers 0 and 1 went to tier %d", tierOf(third))
		}
		fourth, ok := p.Pick(r, []*balance.Host{first, second, third})
		if !ok || fourth == first || fourth == second || fourth == third {
			t.Fatalf("with every tier tried, the retry got %v (ok %v), want an endpoint not tried", fourth, ok)
		}
	}
}

// TestRetryLeavesTriedPeers: one tier of two direct endpoints and two behind one peer
// waypoint; after a failed try through the peer a retry takes a direct endpoint, and when the
// direct ones were tried too, the other endpoint behind the peer is still available.
func TestRetryLeavesTriedPeers(t *testing.T) {
	eps := make([]model.Endpoint, 4)
	r := &Route{Endpoints: eps, Tiers: priority.Tiers{Of: []int{0, 0, 0, 0}, Members: [][]int{{0, 1, 2, 3}}}}
	for i := range eps {
		eps[i] = model.Endpoint{Address: "10.0.0." + strconv.Itoa(i+1), Ready: true, Serving: true}
		r.hosts = append(r.hosts, balance.NewHost(strconv.Itoa(i), "", ""))
	}
	peer := NewPeers("west", "192.0.2.1:15008")
	r.SetVia(r.hosts[2], peer)
	r.SetVia(r.hosts[3], peer)
	r.ejected = make([]bool, len(eps))
	p := NewPicker(11)
	r.Plan = priority.NewPlan(eps, r.Tiers, func(int) bool { return false }, priority.LoadOptions{})
	for range 200 {
		h, ok := p.Pick(r, []*balance.Host{r.hosts[2]})
		if !ok || h == r.hosts[2] || h == r.hosts[3] {
			t.Fatalf("retry after a failed tunnel went to %v, want a direct endpoint", h)
		}
		h, ok = p.Pick(r, []*balance.Host{r.hosts[2], r.hosts[0], r.hosts[1]})
		if !ok || h != r.hosts[3] {
			t.Fatalf("with the direct endpoints tried, the retry got %v, want the other endpoint behind the peer", h)
		}
	}
}
