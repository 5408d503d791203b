package waypoint

import (
	"testing"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/priority"
)

// TestRetryLeavesTriedTiers: tiers of two, two and one endpoints; after a failed try in tier 0
// a retry goes to tier 1, after failures in tiers 0 and 1 to tier 2; with every tier tried, a
// retry still finds an endpoint not tried yet.
func TestRetryLeavesTriedTiers(t *testing.T) {
	eps := make([]model.Endpoint, 5)
	r := &Route{Endpoints: eps, Tiers: priority.Tiers{Of: []int{0, 0, 1, 1, 2}, Members: [][]int{{0, 1}, {2, 3}, {4}}}}
	for i := range eps {
		eps[i] = model.Endpoint{Address: "10.0.0." + itoa(int32(i+1)), Ready: true, Serving: true}
		r.hosts = append(r.hosts, &host{key: itoa(int32(i))})
	}
	r.ejected = make([]bool, len(eps))
	o := NewOutbound(nil, Options{Namespace: "shop", Cluster: "east", Seed: 7})
	r.Plan = priority.NewPlan(eps, r.Tiers, func(int) bool { return false }, o.opts.Load)
	tierOf := func(h *host) int { return r.Tiers.Of[int(h.key[0]-'0')] }
	for range 200 {
		first, ok := o.pick(r, nil)
		if !ok || tierOf(first) != 0 {
			t.Fatalf("first try in tier %d", tierOf(first))
		}
		second, _ := o.pick(r, []*host{first})
		if tierOf(second) != 1 {
			t.Fatalf("retry after a failure in tier 0 went to tier %d", tierOf(second))
		}
		third, _ := o.pick(r, []*host{first, second})
		if tierOf(third) != 2 {
			t.Fatalf("retry after failures in tiers 0 and 1 went to tier %d", tierOf(third))
		}
		fourth, ok := o.pick(r, []*host{first, second, third})
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
		eps[i] = model.Endpoint{Address: "10.0.0." + itoa(int32(i+1)), Ready: true, Serving: true}
		r.hosts = append(r.hosts, &host{key: itoa(int32(i))})
	}
	peer := &peerSet{cluster: "west", addrs: []string{"192.0.2.1:15008"}}
	r.setVia(r.hosts[2], peer)
	r.setVia(r.hosts[3], peer)
	r.ejected = make([]bool, len(eps))
	o := NewOutbound(nil, Options{Namespace: "shop", Cluster: "east", Seed: 11})
	r.Plan = priority.NewPlan(eps, r.Tiers, func(int) bool { return false }, o.opts.Load)
	for range 200 {
		h, ok := o.pick(r, []*host{r.hosts[2]})
		if !ok || h == r.hosts[2] || h == r.hosts[3] {
			t.Fatalf("retry after a failed tunnel went to %v, want a direct endpoint", h)
		}
		h, ok = o.pick(r, []*host{r.hosts[2], r.hosts[0], r.hosts[1]})
		if !ok || h != r.hosts[3] {
			t.Fatalf("with the direct endpoints tried, the retry got %v, want the other endpoint behind the peer", h)
		}
	}
}
