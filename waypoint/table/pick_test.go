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
	peer := NewPeers("west", shopWaypointID, "192.0.2.1:15008")
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

// TestRetryLeavesPeerForReadyEndpointsOnly: tiers of the client's zone and network, whose
// endpoints all crashed and are not ready, then two ready endpoints behind one peer waypoint.
// After a failed try on one of those, the retry goes to the other: the tiers left after
// avoiding the tried tier and peer panic over not-ready endpoints only, and a draw of such a
// panic is no endpoint to try.
func TestRetryLeavesPeerForReadyEndpointsOnly(t *testing.T) {
	eps := make([]model.Endpoint, 6)
	r := &Route{Endpoints: eps, Tiers: priority.Tiers{Of: []int{0, 0, 1, 1, 2, 2}, Members: [][]int{{0, 1}, {2, 3}, {4, 5}}}}
	for i := range eps {
		eps[i] = model.Endpoint{Address: "10.0.0." + strconv.Itoa(i+1), Ready: i >= 4, Serving: i >= 4}
		r.hosts = append(r.hosts, balance.NewHost(strconv.Itoa(i), "", ""))
	}
	peer := NewPeers("west", shopWaypointID, "192.0.2.1:15008")
	r.SetVia(r.hosts[4], peer)
	r.SetVia(r.hosts[5], peer)
	r.ejected = make([]bool, len(eps))
	p := NewPicker(13)
	r.Plan = priority.NewPlan(eps, r.Tiers, func(int) bool { return false }, priority.LoadOptions{})
	for range 200 {
		first, ok := p.Pick(r, nil)
		if !ok || (first != r.hosts[4] && first != r.hosts[5]) {
			t.Fatalf("first try on %v, want a ready endpoint behind the peer", first)
		}
		other := r.hosts[4]
		if first == other {
			other = r.hosts[5]
		}
		if h, ok := p.Pick(r, []*balance.Host{first}); !ok || h != other {
			t.Fatalf("retry after a failure on %s went to %s (ok %v), want %s, the other ready endpoint", first.Key(), h.Key(), ok, other.Key())
		}
	}
}

// TestUntriedOrPrefersServing: the endpoint a panicking last level falls back to is one that
// serves when any is left untried and not ejected, in tier order, else any untried one.
func TestUntriedOrPrefersServing(t *testing.T) {
	eps := []model.Endpoint{{Address: "10.0.0.1"}, {Address: "10.0.0.2"}, {Address: "10.0.0.3", Ready: true, Serving: true}}
	r := &Route{Endpoints: eps, Tiers: priority.Tiers{Of: []int{0, 0, 1}, Members: [][]int{{0, 1}, {2}}}, ejected: make([]bool, 3)}
	for i := range eps {
		r.hosts = append(r.hosts, balance.NewHost(strconv.Itoa(i), "", ""))
	}
	if h := untriedOr(r, nil, r.hosts[0]); h != r.hosts[2] {
		t.Fatalf("got %s, want 2, the one that serves", h.Key())
	}
	if h := untriedOr(r, []*balance.Host{r.hosts[2]}, r.hosts[2]); h != r.hosts[0] {
		t.Fatalf("with the serving endpoint tried, got %s, want 0, the first untried", h.Key())
	}
	r.ejected = []bool{true, true, false}
	if h := untriedOr(r, []*balance.Host{r.hosts[2]}, r.hosts[2]); h != r.hosts[2] {
		t.Fatalf("with nothing untried and not ejected, got %s, want the draw", h.Key())
	}
}
