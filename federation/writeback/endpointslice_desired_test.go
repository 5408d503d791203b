package writeback

import (
	"fmt"
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	mcsv1beta1 "sigs.k8s.io/mcs-api/pkg/apis/v1beta1"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/model"
)

func sliceFixture() (*model.GlobalService, metav1.OwnerReference) {
	g := &model.GlobalService{Namespace: "shop", Name: "db", Type: model.ServiceTypeHeadless,
		Ports: []model.Port{{Name: "tcp", Port: 42, Protocol: "TCP"}, {Name: "udp", Port: 42, Protocol: "UDP"}}}
	return g, metav1.OwnerReference{APIVersion: "multicluster.x-k8s.io/v1beta1", Kind: "ServiceImport", Name: "db", UID: "uid-1"}
}

func ep(addr, hostname string, ready bool) model.Endpoint {
	return model.Endpoint{Address: addr, Hostname: hostname, Ready: ready, Serving: ready,
		Ports: []model.EndpointPort{{Name: "tcp", Port: 42}, {Name: "udp", Port: 42}}, Locality: model.Locality{Zone: "z1"}}
}

func TestDesiredEndpointSlices(t *testing.T) {
	g, owner := sliceFixture()
	sources := []merge.ClusterEndpoints{
		{Cluster: "east", Endpoints: []model.Endpoint{ep("10.0.0.1", "db-0", true), ep("10.0.0.2", "db-1", false), ep("fd00::1", "db-0", true)}},
		{Cluster: "west", Endpoints: []model.Endpoint{ep("10.1.0.1", "", true)}},
		{Cluster: "north", Endpoints: []model.Endpoint{ep("10.2.0.1", "", true)}}, // no cluster ID yet: left out
	}
	ids := map[string]string{"east": "id-east", "west": "id-west"}
	got := desiredEndpointSlices(g, sources, ids, nil, owner)
	if len(got) != 3 {
		t.Fatalf("got %d slices, want 3 (east IPv4, east IPv6, west IPv4)", len(got))
	}
	count := map[string]int{}
	for _, s := range got {
		l := s.Labels
		if l[mcsv1beta1.LabelServiceName] != "db" || l[discoveryv1.LabelManagedBy] != wellknown.EndpointSliceManagedByValue ||
			l[wellknown.ManagedByLabel] != wellknown.ManagedByValue || l[wellknown.GlobalServiceNameLabel] != "db" {
			t.Errorf("slice %s labels %v", s.Name, l)
		}
		if _, ok := l[discoveryv1.LabelServiceName]; ok {
			t.Errorf("slice %s has %s: kube-proxy would use it", s.Name, discoveryv1.LabelServiceName)
		}
		if len(s.OwnerReferences) != 1 || s.OwnerReferences[0].UID != "uid-1" || len(s.Ports) != 2 || *s.Ports[1].Protocol != "UDP" || *s.Ports[1].Port != 42 {
			t.Errorf("slice %s owner %v ports %v", s.Name, s.OwnerReferences, s.Ports)
		}
		count[l[mcsv1beta1.LabelSourceCluster]+"/"+string(s.AddressType)] += len(s.Endpoints)
		for _, e := range s.Endpoints {
			if e.Zone == nil || *e.Zone != "z1" || e.Conditions.Ready == nil || e.Conditions.Terminating == nil {
				t.Errorf("endpoint %v", e)
			}
			if e.Addresses[0] == "10.0.0.1" && (e.Hostname == nil || *e.Hostname != "db-0" || !*e.Conditions.Ready) {
				t.Errorf("endpoint %v: want hostname db-0, ready", e)
			}
			if e.Addresses[0] == "10.0.0.2" && *e.Conditions.Ready {
				t.Errorf("endpoint %v: want not ready", e)
			}
			if e.Addresses[0] == "10.1.0.1" && e.Hostname != nil {
				t.Errorf("endpoint %v: want no hostname", e)
			}
		}
	}
	want := map[string]int{"id-east/IPv4": 2, "id-east/IPv6": 1, "id-west/IPv4": 1}
	if fmt.Sprint(count) != fmt.Sprint(want) {
		t.Errorf("endpoints per cluster and family %v, want %v", count, want)
	}
	// Same input, current slices as desired: the same slices (idempotent, no write).
	again := desiredEndpointSlices(g, sources, ids, got, owner)
	for i := range got {
		if !sliceEqual(again[i], got[i]) || again[i].Name != got[i].Name {
			t.Errorf("second pass changed slice %s", got[i].Name)
		}
	}
}

// TestDesiredEndpointSlicesStable: a service of 2,500 endpoints takes 3 slices of at most
// 1,000; one endpoint added below every other address changes one slice, not all three.
func TestDesiredEndpointSlicesStable(t *testing.T) {
	g, owner := sliceFixture()
	var eps []model.Endpoint
	for i := range 2500 {
		eps = append(eps, ep(fmt.Sprintf("10.1.%d.%d", i/250, i%250+1), "", true))
	}
	ids := map[string]string{"east": "id-east"}
	first := desiredEndpointSlices(g, []merge.ClusterEndpoints{{Cluster: "east", Endpoints: eps}}, ids, nil, owner)
	if len(first) != 3 {
		t.Fatalf("%d slices, want 3", len(first))
	}
	for _, s := range first {
		if len(s.Endpoints) > MaxSliceEndpoints {
			t.Fatalf("slice %s has %d endpoints", s.Name, len(s.Endpoints))
		}
	}
	more := append([]model.Endpoint{ep("10.0.0.1", "", true)}, eps...)
	next := desiredEndpointSlices(g, []merge.ClusterEndpoints{{Cluster: "east", Endpoints: more}}, ids, first, owner)
	changed := 0
	for i := range next {
		if next[i].Name != first[i].Name {
			t.Fatalf("slice names changed: %s → %s", first[i].Name, next[i].Name)
		}
		if !sliceEqual(first[i], next[i]) {
			changed++
		}
	}
	if changed != 1 || len(next) != 3 {
		t.Errorf("%d of %d slices changed, want 1 of 3", changed, len(next))
	}
	// Endpoints gone: the emptied slices are no longer desired (prune deletes them).
	fewer := desiredEndpointSlices(g, []merge.ClusterEndpoints{{Cluster: "east", Endpoints: eps[:10]}}, ids, first, owner)
	if len(fewer) != 1 || len(fewer[0].Endpoints) != 10 {
		t.Errorf("after shrinking: %d slices", len(fewer))
	}
}

func TestSliceModes(t *testing.T) {
	headless := &model.GlobalService{Type: model.ServiceTypeHeadless}
	clusterIP := &model.GlobalService{Type: model.ServiceTypeClusterSetIP}
	for _, tc := range []struct {
		mode              string
		headless, cluster bool
	}{{"all", true, true}, {"headless", true, false}, {"none", false, false}} {
		m, err := ParseSliceMode(tc.mode)
		if err != nil || m.wants(headless) != tc.headless || m.wants(clusterIP) != tc.cluster {
			t.Errorf("%s: %v %v %v", tc.mode, err, m.wants(headless), m.wants(clusterIP))
		}
	}
	if _, err := ParseSliceMode("All"); err == nil {
		t.Error("ParseSliceMode(All) succeeded")
	}
}

// TestSliceMemo: the memo holds while the endpoints (by identity), the ports, the owner and
// the slices' versions stay; any of them changing makes the slices be built again.
func TestSliceMemo(t *testing.T) {
	g, _ := sliceFixture()
	eps := []model.Endpoint{ep("10.0.0.1", "db-0", true)}
	sources := []merge.ClusterEndpoints{{Cluster: "east", Endpoints: eps}}
	ids := map[string]string{"east": "id-east"}
	key := types.NamespacedName{Namespace: "shop", Name: "db"}
	cur := []*discoveryv1.EndpointSlice{{ObjectMeta: metav1.ObjectMeta{Name: "db-x-0", ResourceVersion: "7"}}}
	var m SliceMemo
	in := newSliceInputs(g, sources, ids, "uid-1")
	if m.unchanged("west", key, in, cur) {
		t.Fatal("unchanged before anything was recorded")
	}
	m.record("west", key, in, map[string]string{"db-x-0": "7"})
	if !m.unchanged("west", key, newSliceInputs(g, sources, ids, "uid-1"), cur) {
		t.Error("changed with the same inputs")
	}
	copied := []merge.ClusterEndpoints{{Cluster: "east", Endpoints: append([]model.Endpoint(nil), eps...)}}
	for name, tc := range map[string]struct {
		in  *sliceInputs
		cur []*discoveryv1.EndpointSlice
	}{
		"new endpoints":  {newSliceInputs(g, copied, ids, "uid-1"), cur},
		"new cluster ID": {newSliceInputs(g, sources, map[string]string{"east": "id-2"}, "uid-1"), cur},
		"new owner":      {newSliceInputs(g, sources, ids, "uid-2"), cur},
		"slice changed":  {newSliceInputs(g, sources, ids, "uid-1"), []*discoveryv1.EndpointSlice{{ObjectMeta: metav1.ObjectMeta{Name: "db-x-0", ResourceVersion: "8"}}}},
		"slice added":    {newSliceInputs(g, sources, ids, "uid-1"), append(cur, &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "db-x-1"}})},
		"other member":   {newSliceInputs(g, sources, ids, "uid-1"), nil},
	} {
		member := "west"
		if name == "other member" {
			member = "north"
		}
		if m.unchanged(member, key, tc.in, tc.cur) {
			t.Errorf("%s: memo held", name)
		}
	}
	m.retain("west", map[types.NamespacedName]bool{})
	if m.unchanged("west", key, in, cur) {
		t.Error("memo held after retain dropped it")
	}
}
