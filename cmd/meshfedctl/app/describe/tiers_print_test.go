package describe

import (
	"testing"

	"github.com/meshfed/meshfed/federation/model"
)

// TestLoadPolicyText: each setting a policy sets is shown with its default, in the order of the
// annotations; unset ones are left out.
func TestLoadPolicyText(t *testing.T) {
	u := func(n uint32) *uint32 { return &n }
	tests := []struct {
		name string
		in   model.LoadPolicy
		want string
	}{
		{"factor and panic off", model.LoadPolicy{OverprovisioningFactor: u(200), PanicThreshold: u(0)},
			"overprovisioning factor 200% (default 140%), panic threshold off (default 50%)"},
		{"threshold", model.LoadPolicy{PanicThreshold: u(70)}, "panic threshold 70% (default 50%)"},
		{"remote endpoints aggregated", model.LoadPolicy{RemoteEndpoints: model.RemoteEndpointsAggregated},
			"remote endpoints aggregated (default each)"},
		{"remote endpoints each, set explicitly", model.LoadPolicy{RemoteEndpoints: model.RemoteEndpointsEach},
			"remote endpoints each (default each)"},
		{"all three", model.LoadPolicy{OverprovisioningFactor: u(150), PanicThreshold: u(30), RemoteEndpoints: model.RemoteEndpointsAggregated},
			"overprovisioning factor 150% (default 140%), panic threshold 30% (default 50%), remote endpoints aggregated (default each)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := loadPolicyText(&tt.in); got != tt.want {
				t.Errorf("loadPolicyText = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestTierCellsOfAnAggregatedCluster: the one endpoint standing for a cluster on another
// network shows the service it is tunnelled to and its weight instead of an address.
func TestTierCellsOfAnAggregatedCluster(t *testing.T) {
	agg := model.Endpoint{Locality: model.Locality{Network: "n2", Region: "r1", Cluster: "west"}, Ready: true, Serving: true, Weight: 4}
	got := tierCells(&agg, "web.shop.svc.clusterset.local:80", false)
	if got[0] != "web.shop.svc.clusterset.local:80 via its waypoint (weight 4)" || got[1] != "west" {
		t.Errorf("aggregated row %q", got)
	}
	ep := model.Endpoint{Address: "10.0.0.1", Locality: model.Locality{Cluster: "east"}, Ready: true, Serving: true}
	if got := tierCells(&ep, "10.0.0.1:8080", false); got[0] != "10.0.0.1" {
		t.Errorf("endpoint row %q, want its address", got)
	}
}
