package priority

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
)

// client is the point of view of the tier tables.
var testClient = Client{Locality: loc("n1", "r1", "z1", "s1", "h1", "c1"), Labels: map[string]string{"rack": "k1"}}

// tierEndpoints are A…G of the tier tables, from closest to farthest.
func tierEndpoints() []model.Endpoint {
	eps := []model.Endpoint{
		readyAt(loc("n1", "r1", "z1", "s1", "h1", "c1")), // A: same everything
		readyAt(loc("n1", "r1", "z1", "s1", "h2", "c1")), // B: other node
		readyAt(loc("n1", "r1", "z1", "s2", "h3", "c1")), // C: other subzone
		readyAt(loc("n1", "r1", "z2", "s1", "h4", "c1")), // D: other zone
		readyAt(loc("n1", "r2", "z1", "s1", "h5", "c2")), // E: other region, other cluster
		readyAt(loc("n2", "r1", "z1", "s1", "h1", "c1")), // F: other network (namespace override)
		readyAt(loc("n2", "r2", "z3", "s3", "h6", "c3")), // G: other everything
	}
	eps[0].Labels = map[string]string{"rack": "k1"}
	eps[1].Labels = map[string]string{"rack": "k2"}
	eps[5].Labels = map[string]string{"rack": "k1"}
	return eps
}

func TestAssignModes(t *testing.T) {
	tests := []struct {
		dist model.Distribution
		want []int // tiers of A…G
	}{
		{model.Distribution{Mode: model.ModeAny}, []int{0, 0, 0, 0, 0, 0, 0}},
		{model.Distribution{Mode: model.ModePreferNetwork}, []int{0, 0, 0, 0, 0, 1, 1}},
		{model.Distribution{Mode: model.ModePreferCluster}, []int{0, 0, 0, 0, 1, 2, 3}},
		{model.Distribution{Mode: model.ModePreferRegion}, []int{0, 0, 0, 0, 1, 2, 3}},
		// Region and zone, no subzone (Istio ≥ 1.27): C (other subzone) ranks with A and B.
		{model.Distribution{Mode: model.ModePreferClose}, []int{0, 0, 0, 1, 2, 3, 4}},
		{model.Distribution{Mode: model.ModePreferSameNode}, []int{0, 1, 2, 3, 4, 5, 6}},
		// region, zone: no network split; F matches region+zone like A…C.
		{model.Distribution{Mode: model.ModeFailoverPriority, FailoverPriority: []string{wellknown.RegionLabel, wellknown.ZoneLabel}},
			[]int{0, 0, 0, 1, 2, 0, 2}},
		// rack label then network: A, F have rack k1 (F on other network); others lack rack.
		{model.Distribution{Mode: model.ModeFailoverPriority, FailoverPriority: []string{"rack", wellknown.NetworkLabel}},
			[]int{0, 2, 2, 2, 2, 1, 2}},
		// "=value" compares with the given value instead of the client's.
		{model.Distribution{Mode: model.ModeFailoverPriority, FailoverPriority: []string{"rack=k2"}},
			[]int{1, 0, 1, 1, 1, 1, 1}},
		// cluster and hostname come from Locality.
		{model.Distribution{Mode: model.ModeFailoverPriority, FailoverPriority: []string{wellknown.ClusterLabel, wellknown.HostnameLabel}},
			[]int{0, 1, 1, 1, 2, 0, 2}},
		{model.Distribution{Mode: model.ModeFailoverPriority, FailoverPriority: []string{wellknown.SubzoneLabel}},
			[]int{0, 0, 1, 0, 0, 0, 1}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.dist), func(t *testing.T) {
			eps := tierEndpoints()
			got, err := Assign(eps, testClient, tt.dist)
			if err != nil {
				t.Fatalf("Assign: %v", err)
			}
			if !slices.Equal(got.Of, tt.want) {
				t.Errorf("tiers = %v, want %v", got.Of, tt.want)
			}
			checkTiers(t, got, len(eps))
		})
	}
}

// checkTiers verifies the structural invariants of a Tiers value.
func checkTiers(t *testing.T, got Tiers, n int) {
	t.Helper()
	if len(got.Of) != n {
		t.Fatalf("len(Of) = %d, want %d", len(got.Of), n)
	}
	seen := make([]int, n)
	for tier, members := range got.Members {
		if len(members) == 0 {
			t.Errorf("tier %d is empty", tier)
		}
		if !slices.IsSorted(members) {
			t.Errorf("tier %d members %v not in input order", tier, members)
		}
		for _, i := range members {
			seen[i]++
			if got.Of[i] != tier {
				t.Errorf("endpoint %d listed in tier %d but Of says %d", i, tier, got.Of[i])
			}
		}
	}
	for i, c := range seen {
		if c != 1 {
			t.Errorf("endpoint %d appears in %d tiers", i, c)
		}
	}
}

func TestMaxTiers(t *testing.T) {
	tests := []struct {
		dist model.Distribution
		want int
	}{
		{model.Distribution{Mode: model.ModeAny}, 1},
		{model.Distribution{Mode: model.ModePreferNetwork}, 2},
		{model.Distribution{Mode: model.ModePreferCluster}, 4},
		{model.Distribution{Mode: model.ModePreferRegion}, 4},
		{model.Distribution{Mode: model.ModePreferClose}, 6},
		{model.Distribution{Mode: "PreferSameZone"}, 6},
		{model.Distribution{Mode: model.ModePreferSameNode}, 10},
		{model.Distribution{Mode: model.ModeFailoverPriority, FailoverPriority: []string{"a"}}, 2},
		{model.Distribution{Mode: model.ModeFailoverPriority, FailoverPriority: []string{"a", "b", "c", "d", "e"}}, 6},
		// Network first: split by network, then one more key.
		{model.Distribution{Mode: model.ModeFailoverPriority, FailoverPriority: []string{wellknown.NetworkLabel, "a"}}, 4},
		{model.Distribution{Mode: model.ModeFailoverPriority, FailoverPriority: []string{wellknown.NetworkLabel}}, 2},
		// An overridden network entry is an ordinary key.
		{model.Distribution{Mode: model.ModeFailoverPriority, FailoverPriority: []string{wellknown.NetworkLabel + "=n", "a"}}, 3},
	}
	for _, tt := range tests {
		got, err := MaxTiers(tt.dist)
		if err != nil || got != tt.want {
			t.Errorf("MaxTiers(%v) = %d, %v; want %d", tt.dist, got, err, tt.want)
		}
		eps, client := everyTier(tt.dist)
		tiers, err := Assign(eps, client, tt.dist)
		if err != nil || tiers.Len() != tt.want {
			t.Errorf("Assign(%v) over every combination gave %d tiers, %v; want %d", tt.dist, tiers.Len(), err, tt.want)
		}
	}
}

// everyTier builds, for a distribution, a client and endpoints that hit every raw tier: for each
// network side and each count of leading matches.
func everyTier(d model.Distribution) ([]model.Endpoint, Client) {
	const m = 8 // more keys than any list in the tests; extra ones are ignored
	keys := d.FailoverPriority
	client := Client{Locality: loc("n", "r", "z", "s", "h", "c"), Labels: map[string]string{}}
	for _, k := range keys {
		client.Labels[k] = "mine"
	}
	var eps []model.Endpoint
	for _, network := range []string{"n", "other"} {
		for matches := 0; matches <= m; matches++ {
			l := client.Locality
			l.Network = network
			fields := []*string{&l.Region, &l.Zone, &l.Subzone, &l.Node}
			if d.Mode == model.ModePreferCluster {
				fields = []*string{&l.Cluster}
			}
			labels := map[string]string{}
			for k, f := range fields {
				if k >= matches {
					*f = "theirs"
				}
			}
			for k, key := range keys {
				labels[key] = "mine"
				if k >= matches {
					labels[key] = "theirs"
				}
			}
			e := readyAt(l)
			e.Labels = labels
			eps = append(eps, e)
		}
	}
	return eps, client
}

func TestAssignInvalidDistribution(t *testing.T) {
	tests := []model.Distribution{
		{Mode: "Nearest"},
		{Mode: ""},
		{Mode: model.ModeFailoverPriority},
	}
	for _, d := range tests {
		if _, err := Assign(tierEndpoints(), testClient, d); !errors.Is(err, ErrInvalidDistribution) {
			t.Errorf("Assign(%v) error = %v, want ErrInvalidDistribution", d, err)
		}
	}
}

func TestAssignUnsetEqualsUnset(t *testing.T) {
	client := Client{Locality: loc("", "r1", "", "", "h1", "")}
	eps := []model.Endpoint{
		readyAt(loc("", "r1", "", "", "h1", "")), // same node, no zone labels anywhere
		readyAt(loc("", "r1", "", "", "h2", "")),
		readyAt(loc("n2", "r1", "", "", "h1", "")),
	}
	got, err := Assign(eps, client, model.Distribution{Mode: model.ModePreferSameNode})
	if err != nil || !slices.Equal(got.Of, []int{0, 1, 2}) {
		t.Errorf("tiers = %v, %v; want [0 1 2]", got.Of, err)
	}
}

func TestAssignEmpty(t *testing.T) {
	got, err := Assign(nil, testClient, model.Distribution{Mode: model.ModePreferClose})
	if err != nil || got.Len() != 0 || len(got.Of) != 0 {
		t.Errorf("Assign(nil) = %+v, %v", got, err)
	}
}

func TestTiersHealth(t *testing.T) {
	eps := tierEndpoints()
	eps[1].Ready = false
	eps[2].Terminating = true
	eps[3].Serving = false
	tiers, err := Assign(eps, testClient, model.Distribution{Mode: model.ModePreferNetwork})
	if err != nil {
		t.Fatal(err)
	}
	got := tiers.Health(eps, func(i int) bool { return i == 5 })
	// Endpoint 2 is serving and terminating: degraded. Endpoint 5 (healthy) is ejected.
	want := []TierHealth{{Healthy: 2, Degraded: 1, Total: 5}, {Healthy: 1, Total: 2}}
	if !slices.Equal(got, want) {
		t.Errorf("Health = %v, want %v", got, want)
	}
}
