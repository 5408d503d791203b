package waypoint

import (
	"slices"
	"testing"
	"time"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/waypoint/table"
)

func TestHTTPEndpointChurnUnderLoad(t *testing.T) {
	e := newEnv(t, nil)
	names := []string{"a1", "a2", "a3", "c1", "c2"}
	b := make(map[string]*httpBackend, len(names))
	for i, n := range names {
		b[n] = startHTTPBackend(t, n, "127.0.0."+itoa(int32(101+i)))
	}
	east := func(ns ...string) *store.EndpointsRecord {
		eps := make([]model.Endpoint, 0, len(ns))
		for _, n := range ns {
			eps = append(eps, b[n].endpoint(sameZone))
		}
		return endpoints("east", eps...)
	}
	port := int32(freePort(t))
	e.put(httpService(port, model.ModePreferClose, "http", ""), east("a1", "a2"), endpoints("west", b["c1"].endpoint(otherZone)))
	e.waitRoute("route", port, func(r *table.Route) bool { return r != nil && len(r.Endpoints) == 3 })
	e.eventually("listener", func() bool { return slices.Contains(e.wp.Outbound().Ports(), port) })

	l := startLoad(t, e, port, 200, 6*time.Second)
	// Every 150 ms the store changes: endpoints join, leave, move between clusters' records,
	// tier 0 empties and refills; the backends themselves stay up.
	steps := []*store.EndpointsRecord{
		east("a1", "a2", "a3"), east("a3"), east(), east("a2"), east("a1", "a2", "a3"), east("a1"),
		endpoints("west", b["c1"].endpoint(otherZone), b["c2"].endpoint(otherZone)), east(),
		endpoints("west", b["c2"].endpoint(otherZone)), east("a2", "a3"),
	}
	revBefore := e.wp.Table().Revision()
	for _, rec := range steps {
		time.Sleep(150 * time.Millisecond)
		e.put(rec)
	}
	e.waitRoute("last change applied", port, func(r *table.Route) bool { return r != nil && len(r.Endpoints) == 3 })
	time.Sleep(300 * time.Millisecond)
	replies := l.wait()
	counts := map[string]int{}
	for _, r := range replies {
		if r.err != nil || r.code != 200 {
			t.Errorf("request sent at %s failed: %+v", r.at, r.reply)
			continue
		}
		counts[r.backend]++
	}
	t.Logf("%d requests over %d store changes (revision %d → %d): %v", len(replies), len(steps), revBefore, e.wp.Table().Revision(), counts)
	if len(replies) < 200 {
		t.Fatalf("only %d requests sent", len(replies))
	}
}
