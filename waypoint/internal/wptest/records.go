package wptest

import (
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
)

// Logger logs only errors, to stderr: etcd goroutines may log after a test has ended.
var Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))

// The waypoint's own locality (cluster east, network n1) and the localities of the test
// endpoints; the last three are on network n2, WestWaypoint that of a second waypoint.
var (
	Self         = model.Locality{Network: "n1", Region: "r1", Zone: "z1", Node: "node1", Cluster: "east"}
	SameZone     = model.Locality{Network: "n1", Region: "r1", Zone: "z1", Node: "node2", Cluster: "east"}
	OtherZone    = model.Locality{Network: "n1", Region: "r1", Zone: "z2", Node: "node3", Cluster: "west"}
	OtherRegion  = model.Locality{Network: "n1", Region: "r2", Zone: "z3", Node: "node4", Cluster: "west"}
	OtherNetwork = model.Locality{Network: "n2", Region: "r1", Zone: "z1", Node: "node5", Cluster: "west"}
	WestWaypoint = model.Locality{Network: "n2", Region: "r1", Zone: "z1", Node: "node6", Cluster: "west"}
	NorthNetwork = model.Locality{Network: "n2", Region: "r1", Zone: "z1", Node: "node7", Cluster: "north"}
	SouthNetwork = model.Locality{Network: "n3", Region: "r1", Zone: "z1", Node: "node8", Cluster: "south"}
)

// ManualClock is a clock that moves only when told to.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a clock standing at 2026-05-01 12:00 UTC.
func NewManualClock() *ManualClock {
	return &ManualClock{now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Endpoint is a ready endpoint at ip:port serving the service port "tcp".
func Endpoint(ip string, port int32, loc model.Locality) model.Endpoint {
	return model.Endpoint{
		Address: ip, Ports: []model.EndpointPort{{Name: "tcp", Port: port}},
		Locality: loc, Ready: true, Serving: true, Weight: 1,
	}
}

// Service is the record of shop/echo with one port "tcp" on waypoint port wp, imported by east
// and west from east and west.
func Service(wp int32, mode model.Mode) *store.ServiceRecord {
	return store.NewServiceRecord(&model.PublishedService{
		GlobalService: model.GlobalService{
			Namespace: "shop", Name: "echo", Domain: wellknown.DefaultSegmentDomain,
			Hostname: "echo.shop." + wellknown.DefaultSegmentDomain, Scope: model.ScopeGlobal, Type: model.ServiceTypeClusterSetIP,
			Ports:        []model.Port{{Name: "tcp", Port: 80, Protocol: "TCP"}},
			Distribution: model.Distribution{Mode: mode},
			Imports:      []model.Import{{Cluster: "east", From: []string{"east", "west"}}, {Cluster: "west", From: []string{"east", "west"}}},
		},
		WaypointPorts: []int32{wp},
	})
}

// Edit changes a service record through its model, as the hub would write the result.
func Edit(r *store.ServiceRecord, change func(*model.PublishedService)) *store.ServiceRecord {
	m := r.Model()
	change(&m)
	return store.NewServiceRecord(&m)
}

// Endpoints is cluster's record of shop/echo.
func Endpoints(cluster string, eps ...model.Endpoint) *store.EndpointsRecord {
	return store.NewEndpointsRecord(&model.PublishedEndpoints{
		Namespace: "shop", Domain: wellknown.DefaultSegmentDomain, Name: "echo", Cluster: cluster,
		Scope: model.ScopeGlobal, Endpoints: eps,
	})
}

// WaypointsRecord is the store record of cluster's shop waypoints at addrs.
func WaypointsRecord(cluster, network string, addrs ...string) *store.WaypointsRecord {
	return &store.WaypointsRecord{Namespace: "shop", Cluster: cluster, Network: network, Addresses: addrs}
}

// Put is a watch batch's events putting records at revision rev.
func Put(rev int64, records ...store.Record) []store.Event {
	out := make([]store.Event, 0, len(records))
	for _, r := range records {
		out = append(out, store.Event{Type: store.EventPut, Key: r.Key(), Record: r, Revision: rev})
	}
	return out
}
