package app

import (
	"fmt"
	"slices"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
)

// TestHubFederatesMembers runs the assembled hub against a hub API server and two joined
// members: exports appear in the store and as GlobalServices with the visibility their scope
// gives, and scope changes and unexports are cleaned up.
func TestHubFederatesMembers(t *testing.T) {
	env := startHub(t, "east-1", "west-1")
	east, west := env.members["east-1"].Client, env.members["west-1"].Client
	export(t, east, "shop", "web", "global", "10.244.1.5", "10.244.1.6")
	export(t, west, "shop", "web", "global", "10.244.2.5")
	export(t, east, "shop", "db", "cluster", "10.244.1.7")

	for _, name := range []string{"east-1", "west-1"} {
		eventually(t, "member "+name+" ready", func() (bool, string) {
			s := readyCondition(t, env.hub.Client, name)
			return s == "True", s
		})
	}
	eventually(t, "web endpoints from both members", func() (bool, string) {
		got := env.endpointClusters(t, "shop", "web")
		return slices.Equal(got, []string{"east-1", "west-1"}), fmt.Sprint(got)
	})
	eventually(t, "db imported only where it is exported (cluster scope)", func() (bool, string) {
		r, ok := env.service(t, "shop", "db")
		if !ok {
			return false, "no service record"
		}
		return slices.Equal(importers(r), []string{"east-1"}), fmt.Sprint(importers(r))
	})
	web, _ := env.service(t, "shop", "web")
	if wp := web.Ports[0].WaypointPort; web.Hostname != "web.shop.mesh.internal" || len(web.Ports) != 1 || wp < 20000 || wp > 29999 {
		t.Errorf("web record: hostname %q ports %+v", web.Hostname, web.Ports)
	}
	if !slices.Equal(importers(web), []string{"east-1", "west-1"}) {
		t.Errorf("web imported by %v", importers(web))
	}

	var gs meshfedv1.GlobalService
	eventually(t, "GlobalService mirror of web", func() (bool, string) {
		err := env.hub.Client.Get(t.Context(), client.ObjectKey{Namespace: "shop", Name: "web"}, &gs)
		return err == nil && gs.Status.ClusterCount == 2 && gs.Status.Endpoints == 3, fmt.Sprintf("%v %+v", err, gs.Status)
	})

	// Widening db's scope imports it everywhere; its waypoint port stays unique in the namespace.
	export(t, east, "shop", "db", "global")
	eventually(t, "db imported everywhere after scope change", func() (bool, string) {
		r, _ := env.service(t, "shop", "db")
		return r != nil && slices.Equal(importers(r), []string{"east-1", "west-1"}), fmt.Sprint(r)
	})
	db, _ := env.service(t, "shop", "db")
	if db.Ports[0].WaypointPort == web.Ports[0].WaypointPort {
		t.Errorf("db and web share waypoint port %d", db.Ports[0].WaypointPort)
	}

	// Unexporting web in west-1 withdraws that cluster's endpoints only.
	export(t, west, "shop", "web", "")
	eventually(t, "west-1 endpoints of web withdrawn", func() (bool, string) {
		got := env.endpointClusters(t, "shop", "web")
		return slices.Equal(got, []string{"east-1"}), fmt.Sprint(got)
	})
	// Unexporting db everywhere removes the service and its mirror.
	export(t, east, "shop", "db", "")
	eventually(t, "db withdrawn from store and hub", func() (bool, string) {
		_, ok := env.service(t, "shop", "db")
		err := env.hub.Client.Get(t.Context(), client.ObjectKey{Namespace: "shop", Name: "db"}, &meshfedv1.GlobalService{})
		return !ok && err != nil, fmt.Sprintf("record %v, mirror err %v", ok, err)
	})
}
