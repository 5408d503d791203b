package controller

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"

	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
)

// portsService is a global service of ns with one TCP port per number in ports.
func portsService(ns, name string, ports ...int32) model.GlobalService {
	s := model.GlobalService{Namespace: ns, Name: name, Domain: "mesh.internal"}
	for _, p := range ports {
		s.Ports = append(s.Ports, model.Port{Port: p, Protocol: "TCP"})
	}
	return s
}

// withPorts is s with the waypoint ports wps recorded, as the store holds it.
func withPorts(s model.GlobalService, wps ...int32) model.PublishedService {
	return model.PublishedService{GlobalService: s, WaypointPorts: wps}
}

// gatewayRecord is the waypoints record of ns served by the gateway in gw of cluster.
func gatewayRecord(ns, cluster, gw string) *store.WaypointsRecord {
	return &store.WaypointsRecord{Namespace: ns, Cluster: cluster, Gateway: gw, Identity: GatewayID("cluster.local", gw).String()}
}

// allocated is the waypoint port of the first port of ns/name.
func allocated(ports map[portKey]int32, s model.GlobalService) int32 {
	return ports[portKey{svc: merge.KeyOf(&s), port: s.Ports[0].Port, protocol: s.Ports[0].Protocol}]
}

func TestGatewayPortGroups(t *testing.T) {
	records := []store.Record{
		gatewayRecord("a", "east", "gw"), gatewayRecord("b", "east", "gw"),
		gatewayRecord("b", "west", "gw2"), gatewayRecord("c", "west", "gw2"),
		gatewayRecord("d", "west", "gw"), gatewayRecord("e", "east", "gw3"),
		&store.WaypointsRecord{Namespace: "f", Cluster: "east"},
		gatewayRecord("g", "north", "gw"), gatewayRecord("h", "north", "gw"),
	}
	want := PortGroups{"a": "a", "b": "a", "c": "a", "d": "d", "e": "e", "g": "g", "h": "g"}
	got := GatewayPortGroups(records)
	if !maps.Equal(got, want) {
		t.Fatalf("GatewayPortGroups = %v, want %v", got, want)
	}
	if got.of("f") != "f" || got.of("zz") != "zz" {
		t.Fatalf("a namespace in no group is not its own group: %q %q", got.of("f"), got.of("zz"))
	}
}

func TestAllocatePortsGroups(t *testing.T) {
	r := PortRange{First: 20000, Last: 20009}
	a, b, c := portsService("a", "web", 80), portsService("b", "api", 80), portsService("c", "db", 5432)
	groups := PortGroups{"a": "a", "b": "a"}
	tests := []struct {
		name     string
		previous []model.PublishedService
		groups   PortGroups
		want     map[string]int32
	}{
		{"no groups: each namespace starts at the bottom", nil, nil, map[string]int32{"a": 20000, "b": 20000, "c": 20000}},
		{"a group shares the range", nil, groups, map[string]int32{"a": 20000, "b": 20001, "c": 20000}},
		{"kept allocations that do not collide", []model.PublishedService{withPorts(a, 20005), withPorts(b, 20003)}, groups,
			map[string]int32{"a": 20005, "b": 20003, "c": 20000}},
		{"a collision in a new group: the first key keeps its port", []model.PublishedService{withPorts(b, 20000), withPorts(a, 20000), withPorts(c, 20000)}, groups,
			map[string]int32{"a": 20000, "b": 20001, "c": 20000}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ports, err := AllocatePorts(r, tc.previous, []model.GlobalService{a, b, c}, tc.groups)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int32{"a": allocated(ports, a), "b": allocated(ports, b), "c": allocated(ports, c)}
			if !maps.Equal(got, tc.want) {
				t.Fatalf("AllocatePorts = %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("a group exhausts the range together", func(t *testing.T) {
		small := PortRange{First: 20000, Last: 20000}
		ports, err := AllocatePorts(small, nil, []model.GlobalService{a, b, c}, groups)
		if err == nil || allocated(ports, a) != 20000 || allocated(ports, c) != 20000 {
			t.Fatalf("AllocatePorts = %v, %v; want a and c allocated and b exhausted", ports, err)
		}
		if _, ok := ports[portKey{svc: merge.KeyOf(&b), port: 80, protocol: "TCP"}]; ok {
			t.Fatalf("b got a port its group already uses: %v", ports)
		}
	})
}

// FuzzAllocatePortsGroups checks, on random services, previous allocations and gateway groups:
// no two ports of one group share a waypoint port; allocating again from the result changes
// nothing; and a namespace in no group gets exactly what it gets with no groups at all.
func FuzzAllocatePortsGroups(f *testing.F) {
	f.Add(uint64(1), uint8(6), uint8(3))
	f.Add(uint64(7), uint8(20), uint8(8))
	f.Fuzz(func(t *testing.T, seed uint64, nsvc, ngw uint8) {
		rnd := rand.New(rand.NewPCG(seed, seed>>1))
		r := PortRange{First: 20000, Last: 20000 + int32(rnd.IntN(40))}
		namespaces := []string{"a", "b", "c", "d", "e", "f"}
		var services []model.GlobalService
		var previous []model.PublishedService
		for i := range int(nsvc % 24) {
			s := portsService(namespaces[rnd.IntN(len(namespaces))], fmt.Sprintf("s%d", i), 80, int32(8000+rnd.IntN(3)))
			if s.Ports[1].Port == 80 {
				s.Ports = s.Ports[:1]
			}
			services = append(services, s)
			if rnd.IntN(2) == 0 {
				previous = append(previous, withPorts(s, r.First+int32(rnd.IntN(int(r.Last-r.First+1))), r.First+int32(rnd.IntN(int(r.Last-r.First+1)))))
			}
		}
		var records []store.Record
		for range int(ngw % 8) {
			records = append(records, gatewayRecord(namespaces[rnd.IntN(len(namespaces))], []string{"east", "west"}[rnd.IntN(2)], []string{"gw1", "gw2"}[rnd.IntN(2)]))
		}
		groups := GatewayPortGroups(records)
		ports, _ := AllocatePorts(r, previous, services, groups)
		seen := map[string]map[int32]portKey{}
		for k, wp := range ports {
			g := groups.of(k.svc.Namespace)
			if other, ok := seen[g][wp]; ok {
				t.Fatalf("group %s: %v and %v both have waypoint port %d", g, other, k, wp)
			}
			if seen[g] == nil {
				seen[g] = map[int32]portKey{}
			}
			seen[g][wp] = k
		}
		var again []model.PublishedService
		for _, s := range services {
			p := withPorts(s)
			for _, port := range s.Ports {
				p.WaypointPorts = append(p.WaypointPorts, ports[portKey{svc: merge.KeyOf(&s), port: port.Port, protocol: port.Protocol}])
			}
			again = append(again, p)
		}
		stable, _ := AllocatePorts(r, again, services, groups)
		if !maps.Equal(stable, ports) {
			t.Fatalf("allocating again from the result changed it:\n%v\n%v", ports, stable)
		}
		alone, _ := AllocatePorts(r, previous, services, nil)
		for k, wp := range alone {
			if _, grouped := groups[k.svc.Namespace]; !grouped && ports[k] != wp {
				t.Fatalf("%v in no group got %d, %d without groups", k, ports[k], wp)
			}
		}
	})
}
