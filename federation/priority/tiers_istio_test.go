package priority

import (
	"slices"
	"testing"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
)

// istioEndpoints are the six endpoints of Istio's buildWrappedLocalityLbEndpoints
// (pilot/pkg/networking/core/loadbalancer/loadbalancer_test.go), in its order: network and
// cluster in Locality (where meshfed keeps them), the "key" label as a label.
func istioEndpoints() []model.Endpoint {
	at := func(network, cluster string, key bool) model.Endpoint {
		e := readyAt(model.Locality{Network: network, Cluster: cluster})
		if key {
			e.Labels = map[string]string{"key": "value"}
		}
		return e
	}
	return []model.Endpoint{
		at("n1", "c1", false), // 1.1.1.1
		at("n2", "c2", true),  // 2.2.2.2
		at("n1", "c3", true),  // 3.3.3.3
		at("n2", "c4", true),  // 4.4.4.4
		at("n1", "c1", true),  // 1.2.3.4
		at("n2", "c2", true),  // 2.3.4.5
	}
}

// TestAssignIstioFailoverPriority runs the cases of Istio's
// TestApplyLocalitySetting/FailoverPriority: the expected priorities there, per endpoint.
func TestAssignIstioFailoverPriority(t *testing.T) {
	netCluster := []string{wellknown.NetworkLabel, wellknown.ClusterLabel}
	tests := []struct {
		name    string
		keys    []string
		network string
		cluster string
		labels  map[string]string
		want    []int
	}{
		{"match none label", netCluster, "test", "test", nil, []int{0, 0, 0, 0, 0, 0}},
		// Network first splits by network (Istio PR #60829).
		{"match network label", netCluster, "n1", "test", nil, []int{0, 1, 0, 1, 0, 1}},
		{"not match the first n label", netCluster, "test", "c1", nil, []int{0, 1, 1, 1, 0, 1}},
		// Network not first: a plain leading-match count.
		{"match all labels", []string{"key", wellknown.NetworkLabel, wellknown.ClusterLabel}, "n2", "c2",
			map[string]string{"key": "value"}, []int{3, 0, 2, 1, 2, 0}},
		// An overridden network entry is an ordinary key: no split.
		{"priority assignment as per the overridden value", []string{wellknown.NetworkLabel + "=n1"}, "n2", "test", nil,
			[]int{0, 1, 0, 1, 0, 1}},
		{"no endpoints with overridden value", []string{wellknown.NetworkLabel + "=n3"}, "n1", "test", nil,
			[]int{0, 0, 0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := Client{Locality: model.Locality{Network: tt.network, Cluster: tt.cluster}, Labels: tt.labels}
			got, err := Assign(istioEndpoints(), client, model.Distribution{Mode: model.ModeFailoverPriority, FailoverPriority: tt.keys})
			if err != nil || !slices.Equal(got.Of, tt.want) {
				t.Errorf("tiers = %v, %v; want %v", got.Of, err, tt.want)
			}
		})
	}
}

// istioLocalityEndpoints are the endpoints of Istio's "FailoverPriority including locality" case
// (buildWrappedLocalityLbEndpointsForFailoverPriorityWithFailover with region and zone labels),
// with region and zone both as plain labels and in Locality.
func istioLocalityEndpoints() []model.Endpoint {
	at := func(network, region, zone string) model.Endpoint {
		e := readyAt(model.Locality{Network: network, Region: region, Zone: zone})
		e.Labels = map[string]string{"region": region, "zone": zone}
		return e
	}
	return []model.Endpoint{
		at("n1", "region1", "zone1"), // 1.1.1.1
		at("n2", "region1", "zone2"), // 2.2.2.2
		at("n1", "region2", "zone2"), // 3.3.3.3
		at("n2", "region3", "zone3"), // 4.4.4.4
		at("n2", "region2", "zone2"), // 5.5.5.5
		at("n1", "region3", "zone3"), // 6.6.6.6
	}
}

// TestAssignIstioFailoverPriorityIncludingLocality is Istio's TestApplyLocalitySetting/
// "FailoverPriority including locality" (added by PR #60829), and the same ranking reached
// through PreferClose, which Istio turns into the failover priority network, region, zone
// (TestGetEffectiveLbSetting/"prefer same zone service over mesh locality"; no subzone since
// Istio #56042).
func TestAssignIstioFailoverPriorityIncludingLocality(t *testing.T) {
	want := []int{1, 3, 0, 3, 2, 1}
	client := Client{
		Locality: model.Locality{Network: "n1", Region: "region2", Zone: "zone2"},
		Labels:   map[string]string{"region": "region2", "zone": "zone2"},
	}
	for _, d := range []model.Distribution{
		{Mode: model.ModeFailoverPriority, FailoverPriority: []string{wellknown.NetworkLabel, "region", "zone"}},
		{Mode: model.ModeFailoverPriority, FailoverPriority: []string{wellknown.NetworkLabel, wellknown.RegionLabel, wellknown.ZoneLabel}},
		{Mode: model.ModePreferClose},
	} {
		got, err := Assign(istioLocalityEndpoints(), client, d)
		if err != nil || !slices.Equal(got.Of, want) {
			t.Errorf("%v: tiers = %v, %v; want %v", d, got.Of, err, want)
		}
	}
}

// TestModesAreIstioFailoverPriorities checks that PreferClose and PreferSameNode rank exactly as
// the failover-priority lists Istio's GetEffectiveLbSetting gives them
// (TestGetEffectiveLbSetting: preferSameZoneExpected, preferSameNodeExpected), for every client
// and endpoint built from two values per locality field.
func TestModesAreIstioFailoverPriorities(t *testing.T) {
	lists := map[model.Mode][]string{
		model.ModePreferClose: {wellknown.NetworkLabel, wellknown.RegionLabel, wellknown.ZoneLabel},
		model.ModePreferSameNode: {wellknown.NetworkLabel, wellknown.RegionLabel, wellknown.ZoneLabel,
			wellknown.SubzoneLabel, wellknown.HostnameLabel},
	}
	var eps []model.Endpoint
	for bits := range 1 << 6 {
		v := func(k int) string { return []string{"a", "b"}[bits>>k&1] }
		eps = append(eps, readyAt(loc(v(0), v(1), v(2), v(3), v(4), v(5))))
	}
	for mode, keys := range lists {
		for _, c := range eps {
			client := Client{Locality: c.Locality}
			byMode, err1 := Assign(eps, client, model.Distribution{Mode: mode})
			byList, err2 := Assign(eps, client, model.Distribution{Mode: model.ModeFailoverPriority, FailoverPriority: keys})
			if err1 != nil || err2 != nil || !slices.Equal(byMode.Of, byList.Of) {
				t.Fatalf("%s from %+v: %v (%v), failover priority %v (%v)", mode, c.Locality, byMode.Of, err1, byList.Of, err2)
			}
		}
	}
}

// TestAssignUnlabeledClient: a client with no labels and no locality gets one tier, whatever
// the distribution, as Istio's applyFailoverPriorities returns early when the proxy has no labels
// (its proxy labels include the locality, so an unlabeled proxy has none). Istio has no test of
// its own for this.
func TestAssignUnlabeledClient(t *testing.T) {
	for _, d := range fuzzDistributions {
		got, err := Assign(tierEndpoints(), Client{}, d)
		if err != nil || got.Len() != 1 {
			t.Errorf("%v: %d tiers, %v; want 1", d, got.Len(), err)
		}
		checkTiers(t, got, len(tierEndpoints()))
	}
	// One label is enough to rank.
	got, err := Assign(tierEndpoints(), Client{Labels: map[string]string{"rack": "k1"}},
		model.Distribution{Mode: model.ModeFailoverPriority, FailoverPriority: []string{"rack"}})
	if err != nil || !slices.Equal(got.Of, []int{0, 1, 1, 1, 1, 0, 1}) {
		t.Errorf("rack only: tiers = %v, %v", got.Of, err)
	}
}

// TestAssignSameNodeNeedsSameCluster is the regression test for a node of the client's name in
// another cluster counting as the client's node: node names are unique inside a cluster only.
func TestAssignSameNodeNeedsSameCluster(t *testing.T) {
	client := Client{Locality: loc("n1", "r1", "z1", "s1", "h1", "c1")}
	eps := []model.Endpoint{
		readyAt(loc("n1", "r1", "z1", "s1", "h1", "c1")), // the client's node
		readyAt(loc("n1", "r1", "z1", "s1", "h1", "c2")), // same name, other cluster
		readyAt(loc("n1", "r1", "z1", "s1", "h2", "c1")), // other node, same cluster
	}
	tests := []struct {
		dist model.Distribution
		want []int
	}{
		{model.Distribution{Mode: model.ModePreferSameNode}, []int{0, 1, 1}},
		{model.Distribution{Mode: model.ModeFailoverPriority, FailoverPriority: []string{wellknown.HostnameLabel}}, []int{0, 1, 1}},
		// "=value" names a node, in any cluster.
		{model.Distribution{Mode: model.ModeFailoverPriority, FailoverPriority: []string{wellknown.HostnameLabel + "=h1"}}, []int{0, 0, 1}},
	}
	for _, tt := range tests {
		got, err := Assign(eps, client, tt.dist)
		if err != nil || !slices.Equal(got.Of, tt.want) {
			t.Errorf("%v: tiers = %v, %v; want %v", tt.dist, got.Of, err, tt.want)
		}
	}
}
