package waypoint

import (
	"fmt"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/waypoint/table"
)

// TestTableRoutesLargeService: a 10,000-endpoint service, which the store keeps in parts, is
// routed whole, and one endpoint's change reaches the route whole: the table never holds a
// part of the record.
func TestTableRoutesLargeService(t *testing.T) {
	const n = 10000
	e := newEnv(t, nil)
	port := int32(freePort(t))
	eps := make([]model.Endpoint, n)
	for i := range eps {
		eps[i] = endpoint(fmt.Sprintf("10.%d.%d.%d", 100+i/65536, i/256%256, i%256), 8080, sameZone)
		eps[i].Locality.Node = fmt.Sprintf("ip-10-20-%d-%d.eu-west-1.compute.internal", i/30/256, i/30%256)
	}
	e.put(service(port, model.ModeAny), endpoints("east", eps...))
	e.waitRoute("route of 10,000 endpoints", port, func(r *table.Route) bool { return r != nil && len(r.Endpoints) == n })
	eps[n/2].Ready = false
	e.put(endpoints("east", eps...))
	e.waitRoute("one endpoint not ready", port, func(r *table.Route) bool {
		if r == nil || len(r.Endpoints) != n {
			t.Fatalf("the route was lost or held part of the record while it changed (want %d endpoints)", n)
		}
		healthy := 0
		for i := range r.Endpoints {
			if r.Endpoints[i].Healthy() {
				healthy++
			}
		}
		return healthy == n-1
	})
}
