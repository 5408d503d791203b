package describe

import (
	"strings"
	"testing"
	"time"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/internal/golden"
	wptable "github.com/meshfed/meshfed/waypoint/table"
)

// TestWriteWaypoint prints a waypoint's routing of a service as tables, never Go structs (it
// printed the skipped endpoints with %+v before).
func TestWriteWaypoint(t *testing.T) {
	gs := &meshfedv1.GlobalService{}
	gs.Namespace, gs.Name = "shop", "web"
	gs.Spec.ServiceName, gs.Spec.Hostname = "web", "web.shop.mesh.internal"
	ejectedUntil := time.Date(2026, 12, 5, 10, 30, 0, 0, time.UTC)
	d := &wptable.DebugTable{Revision: 42, Ready: true, CrossNetwork: "hbone/h2", Routes: []wptable.DebugRoute{{
		Service: "shop/web", Hostname: "web.shop.mesh.internal", PortName: "http", Port: 80, ListenPort: 20000,
		Distribution: model.Distribution{Mode: model.ModePreferClose}, Protocol: "http",
		TierPercent: []uint32{70, 30}, TierPanic: []bool{false, false},
		Endpoints: []wptable.DebugEndpoint{
			{Cluster: "east-1", Target: "10.1.0.1:8080", Locality: model.Locality{Zone: "eu-1"}, Tier: 0, Healthy: true, Ready: true, Serving: true, Share: 70, InFlight: 3},
			{Cluster: "east-1", Target: "10.1.0.2:8080", Locality: model.Locality{Zone: "eu-1"}, Tier: 0, Ready: true, Serving: true},
			{Cluster: "west-1", Target: "10.3.0.1:8080", Tier: 1, Healthy: true, Ready: true, Serving: true, Share: 30, Via: []string{"192.0.2.7:15008"}},
		},
		Skipped: []wptable.Skipped{{Cluster: "north-1", Address: "10.4.0.1", Reason: wptable.SkipNoWaypoint}},
		Problem: "one endpoint\nis ejected",
	}, {Service: "shop/other", Hostname: "other.shop.mesh.internal"}}}
	d.Routes[0].Endpoints[1].Ejected, d.Routes[0].Endpoints[1].EjectedUntil, d.Routes[0].Endpoints[1].TimesEjected = true, ejectedUntil, 2
	var b strings.Builder
	if err := writeWaypoint(&b, "http://127.0.0.1:15021", d, gs); err != nil {
		t.Fatal(err)
	}
	if err := writeWaypoint(&b, "http://127.0.0.1:15022", &wptable.DebugTable{}, gs); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.ContainsAny(out, "{}") {
		t.Errorf("Go structs in the output:\n%s", out)
	}
	golden.Check(t, "waypoint", out)
}
