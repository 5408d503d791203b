package controller

import (
	"fmt"
	"slices"

	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/model"
)

// PortRange is the range waypoint listener ports are allocated from, inclusive.
type PortRange struct {
	First, Last int32
}

// DefaultPortRange is the waypoint port range of DESIGN §4.
var DefaultPortRange = PortRange{First: 20000, Last: 29999}

// Validate checks the range is inside 1..65535 and not empty.
func (r PortRange) Validate() error {
	if r.First < 1 || r.Last > 65535 || r.First > r.Last {
		return fmt.Errorf("invalid waypoint port range %d-%d", r.First, r.Last)
	}
	return nil
}

// portKey names one port of one global service.
type portKey struct {
	svc      merge.Key
	port     int32
	protocol string
}

// AllocatePorts gives every port of every service a waypoint listener port that is unique in
// its namespace's port group (groups; a namespace in no group is a group of its own): a shared
// gateway opens the listeners of every namespace it serves in one pod. A port keeps the
// waypoint port recorded for it in previous (the store's service records) so allocations
// survive hub restarts and leader changes, first come (by service key) first kept; a recorded
// port another namespace of its group kept first is re-allocated. New ports get the lowest
// free port of the range. Ports that cannot be allocated (range exhausted) are left out of the
// result and returned as an error per namespace; everything else is still allocated.
func AllocatePorts(r PortRange, previous []model.PublishedService, services []model.GlobalService, groups PortGroups) (map[portKey]int32, error) {
	out := map[portKey]int32{}
	used := map[string]map[int32]bool{}
	want := map[portKey]bool{}
	for i := range services {
		s := &services[i]
		for _, p := range s.Ports {
			want[portKey{svc: merge.KeyOf(s), port: p.Port, protocol: p.Protocol}] = true
		}
	}
	// Keep previous allocations of ports that still exist, first come first kept.
	for _, prev := range sortedByKey(previous) {
		k := merge.KeyOf(&prev.GlobalService)
		for i, p := range prev.Ports {
			pk, wp := portKey{svc: k, port: p.Port, protocol: p.Protocol}, prev.WaypointPort(i)
			g := groups.of(k.Namespace)
			if !want[pk] || wp < r.First || wp > r.Last || used[g][wp] {
				continue
			}
			mark(used, g, wp)
			out[pk] = wp
		}
	}
	var exhausted []string
	for i := range services {
		s := &services[i]
		k := merge.KeyOf(s)
		for _, p := range s.Ports {
			pk := portKey{svc: k, port: p.Port, protocol: p.Protocol}
			if _, ok := out[pk]; ok {
				continue
			}
			g := groups.of(k.Namespace)
			wp, ok := lowestFree(r, used[g])
			if !ok {
				exhausted = append(exhausted, fmt.Sprintf("%s port %d", k.Hostname(), p.Port))
				continue
			}
			mark(used, g, wp)
			out[pk] = wp
		}
	}
	if len(exhausted) > 0 {
		return out, fmt.Errorf("waypoint port range %d-%d exhausted for %v", r.First, r.Last, exhausted)
	}
	return out, nil
}

// mark records port p as used in group g.
func mark(used map[string]map[int32]bool, g string, p int32) {
	if used[g] == nil {
		used[g] = map[int32]bool{}
	}
	used[g][p] = true
}

func lowestFree(r PortRange, used map[int32]bool) (int32, bool) {
	for p := r.First; p <= r.Last; p++ {
		if !used[p] {
			return p, true
		}
	}
	return 0, false
}

func sortedByKey(services []model.PublishedService) []*model.PublishedService {
	out := make([]*model.PublishedService, len(services))
	for i := range services {
		out[i] = &services[i]
	}
	slices.SortFunc(out, func(a, b *model.PublishedService) int {
		return merge.KeyOf(&a.GlobalService).Compare(merge.KeyOf(&b.GlobalService))
	})
	return out
}
