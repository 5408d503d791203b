package merge_test

import (
	"fmt"
	"time"

	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/model"
)

// Example merges one Service exported by two clusters with different scopes: east-1 exports
// shop/web globally, west-1 only to its own cluster. Every cluster imports the service, but
// only west-1 may address west-1's endpoints; the two exports disagree on a port's protocol,
// which the merge resolves by the MCS rule (the oldest export wins) and reports.
func Example() {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	port := func(protocol string) []model.Port {
		return []model.Port{{Name: "http", Port: 80, Protocol: protocol}}
	}
	ready := func(ip string) []model.Endpoint {
		return []model.Endpoint{{Address: ip, Ready: true, Serving: true, Ports: []model.EndpointPort{{Name: "http", Port: 8080}}}}
	}
	res := merge.Merge(merge.Input{
		Clusters: []model.Cluster{
			{Name: "east-1", Network: "net-a", Segment: "default"},
			{Name: "west-1", Network: "net-b", Segment: "default"},
		},
		Exports: []model.ClusterExport{
			{Cluster: "east-1", Namespace: "shop", Name: "web", Scope: model.ScopeGlobal, Created: t0,
				Type: model.ServiceTypeClusterSetIP, Ports: port("TCP"), Endpoints: ready("10.1.0.5")},
			{Cluster: "west-1", Namespace: "shop", Name: "web", Scope: model.ScopeCluster, Created: t0.Add(time.Hour),
				Type: model.ServiceTypeClusterSetIP, Ports: port("UDP"), Endpoints: ready("10.2.0.7")},
		},
	})
	for _, s := range res.Services {
		g := s.Global
		fmt.Println(g.Hostname, g.Ports[0].Protocol)
		reach := merge.ReachOf(g.Imports)
		for _, c := range []string{"east-1", "west-1"} {
			fmt.Printf("%s addresses %v; %s is addressed by %v\n", c, reach.From(c), c, reach.To(c))
		}
		for _, c := range g.Conflicts {
			fmt.Println(c.Reason, c.Clusters)
		}
	}
	// Output:
	// web.shop.mesh.internal TCP
	// east-1 addresses [east-1]; east-1 is addressed by [east-1 west-1]
	// west-1 addresses [east-1 west-1]; west-1 is addressed by [west-1]
	// PortConflict [east-1 west-1]
}
