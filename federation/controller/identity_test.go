package controller

import (
	"testing"

	"github.com/meshfed/meshfed/federation/member"
	"github.com/meshfed/meshfed/federation/store"
)

func TestGatewayID(t *testing.T) {
	if got, want := GatewayID("example.org", "meshfed-system").String(), "spiffe://example.org/ns/meshfed-system/sa/meshfed-gateway"; got != want {
		t.Fatalf("GatewayID = %s, want %s", got, want)
	}
	if got := (FederationOptions{}).trustDomain(); got != DefaultTrustDomain {
		t.Fatalf("trust domain of no options = %q, want %q", got, DefaultTrustDomain)
	}
}

// TestWaypointsRecords checks that a namespace a gateway serves gets a record naming the
// gateway and its identity in the hub's trust domain, a namespace's own waypoint neither, and
// that the store takes both.
func TestWaypointsRecords(t *testing.T) {
	ws := []member.Waypoint{
		{Namespace: "cart", Network: "n1", Addresses: []string{"203.0.113.1:15008"}, Gateway: "meshfed-system"},
		{Namespace: "shop", Network: "n2", Addresses: []string{"203.0.113.2:15008"}},
	}
	recs := waypointsRecords("east-1", ws, "example.org")
	want := []store.WaypointsRecord{
		{Namespace: "cart", Cluster: "east-1", Network: "n1", Addresses: []string{"203.0.113.1:15008"},
			Gateway: "meshfed-system", Identity: "spiffe://example.org/ns/meshfed-system/sa/meshfed-gateway"},
		{Namespace: "shop", Cluster: "east-1", Network: "n2", Addresses: []string{"203.0.113.2:15008"}},
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d", len(recs), len(want))
	}
	for i, r := range recs {
		got := r.(*store.WaypointsRecord)
		if got.Namespace != want[i].Namespace || got.Gateway != want[i].Gateway || got.Identity != want[i].Identity ||
			got.Network != want[i].Network || got.Cluster != want[i].Cluster || len(got.Addresses) != 1 || got.Addresses[0] != want[i].Addresses[0] {
			t.Errorf("record %d = %+v, want %+v", i, *got, want[i])
		}
		if err := got.Validate(); err != nil {
			t.Errorf("record %d does not validate: %v", i, err)
		}
	}
}
