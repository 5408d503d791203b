package merge

import (
	"slices"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
)

// tcp, udp and app build ports for the port tests.
func tcp(name string, port int32) model.Port {
	return model.Port{Name: name, Port: port, Protocol: "TCP"}
}
func udp(name string, port int32) model.Port {
	return model.Port{Name: name, Port: port, Protocol: "UDP"}
}
func app(p model.Port, appProtocol string) model.Port {
	p.AppProtocol = appProtocol
	return p
}

// TestPorts covers the union and the port conflict rules: identity by name then by
// (protocol, number), oldest wins (ties by cluster name), protocol conflicts fall back to
// plain TCP, port sets that differ are a conflict of their own.
func TestPorts(t *testing.T) {
	tests := []struct {
		name string
		// a and b are the ports of clusters e1 and e2, created at ageA and ageB.
		a, b         []model.Port
		ageA, ageB   int
		want         []model.Port
		wantConflict []string // substrings of the single PortConflict message on one port; nil: none
		wantSet      []string // substrings of the PortConflict for port sets that differ; nil: none
	}{
		{name: "same ports", a: []model.Port{tcp("http", 80)}, b: []model.Port{tcp("http", 80)},
			want: []model.Port{tcp("http", 80)}},
		{name: "empty protocol is TCP", a: []model.Port{{Name: "http", Port: 80}}, b: []model.Port{tcp("http", 80)},
			want: []model.Port{tcp("http", 80)}},
		{name: "union, sorted by number", a: []model.Port{tcp("metrics", 9090)}, b: []model.Port{tcp("http", 80)},
			want:    []model.Port{tcp("http", 80), tcp("metrics", 9090)},
			wantSet: []string{"exposes their union", `"http" 80/TCP in e2; "metrics" 9090/TCP in e1`}},
		{name: "one cluster adds an SCTP port: union and a conflict", a: []model.Port{tcp("tcp", 42), udp("udp", 42)},
			b:       []model.Port{tcp("tcp", 42), {Name: "stcp", Port: 142, Protocol: "SCTP"}},
			want:    []model.Port{tcp("tcp", 42), udp("udp", 42), {Name: "stcp", Port: 142, Protocol: "SCTP"}},
			wantSet: []string{`"stcp" 142/SCTP in e2; "udp" 42/UDP in e1`}},
		{name: "same number, different L4 protocol and names: two ports", a: []model.Port{udp("dns", 53)}, b: []model.Port{tcp("dns-tcp", 53)},
			want: []model.Port{tcp("dns-tcp", 53), udp("dns", 53)}, wantSet: []string{`"dns" 53/UDP in e1; "dns-tcp" 53/TCP in e2`}},
		{name: "same name, other number: oldest wins", a: []model.Port{tcp("http", 80)}, b: []model.Port{tcp("http", 8080)}, ageA: 5, ageB: 1,
			want:         []model.Port{tcp("http", 8080)},
			wantConflict: []string{`oldest export declaring it (e2)`, `"http" 80/TCP in e1`, `"http" 8080/TCP in e2`}},
		{name: "same name, other number, same age: tie by cluster name", a: []model.Port{tcp("http", 80)}, b: []model.Port{tcp("http", 8080)},
			want: []model.Port{tcp("http", 80)}, wantConflict: []string{`oldest export declaring it (e1)`}},
		{name: "same protocol and number, other name: oldest name", a: []model.Port{tcp("web", 80)}, b: []model.Port{tcp("http", 80)},
			want: []model.Port{tcp("web", 80)}, wantConflict: []string{`port "web" 80/TCP`, `"http" 80/TCP in e2`}},
		{name: "appProtocol conflict: plain TCP", a: []model.Port{app(tcp("web", 80), "http")}, b: []model.Port{app(tcp("web", 80), "kubernetes.io/h2c")},
			want: []model.Port{tcp("web", 80)}, wantConflict: []string{"protocols differ", "plain TCP without appProtocol"}},
		{name: "appProtocol set on one side only: plain TCP", a: []model.Port{tcp("web", 80)}, b: []model.Port{app(tcp("web", 80), "grpc")},
			want: []model.Port{tcp("web", 80)}, wantConflict: []string{"protocols differ"}},
		{name: "appProtocol conflict on UDP keeps UDP", a: []model.Port{app(udp("q", 443), "quic")}, b: []model.Port{udp("q", 443)},
			want: []model.Port{udp("q", 443)}, wantConflict: []string{"plain UDP without appProtocol"}},
		{name: "L4 protocol conflict: TCP", a: []model.Port{app(udp("dns", 53), "dns")}, b: []model.Port{tcp("dns", 53)},
			want: []model.Port{tcp("dns", 53)}, wantConflict: []string{`"dns" 53/UDP appProtocol=dns in e1`, `"dns" 53/TCP in e2`, "plain TCP"}},
		{name: "L4 protocol conflict, TCP taken: oldest protocol stays", a: []model.Port{udp("dns", 53), tcp("dns-tcp", 53)}, b: []model.Port{tcp("dns", 53)},
			want: []model.Port{tcp("dns-tcp", 53), udp("dns", 53)}, wantConflict: []string{"plain UDP"}, wantSet: []string{`"dns-tcp" 53/TCP in e1`}},
		{name: "second port of one cluster onto one merged port: not merged", a: []model.Port{tcp("a", 80)}, b: []model.Port{tcp("a", 81), tcp("b", 80)},
			want: []model.Port{tcp("a", 80)}, wantConflict: []string{`"b" 80/TCP (not merged`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Clusters: fixtureClusters(), Segments: fixtureSegments(), Exports: []model.ClusterExport{
				export("e1", model.ScopeGlobal, tt.ageA, withPorts(tt.a...)),
				export("e2", model.ScopeGlobal, tt.ageB, withPorts(tt.b...)),
			}}
			svc := onlyService(t, in).Global
			if !slices.Equal(svc.Ports, tt.want) {
				t.Errorf("ports %v, want %v", svc.Ports, tt.want)
			}
			conflicts := conflictsOf(&svc, model.ReasonPortConflict)
			if len(svc.Conflicts) != len(conflicts) {
				t.Errorf("unexpected non-port conflicts: %v", svc.Conflicts)
			}
			sets := slices.DeleteFunc(slices.Clone(conflicts), func(c model.Conflict) bool { return !strings.HasPrefix(c.Message, "port sets differ") })
			conflicts = slices.DeleteFunc(conflicts, func(c model.Conflict) bool { return strings.HasPrefix(c.Message, "port sets differ") })
			checkPortConflict(t, conflicts, tt.wantConflict)
			checkPortConflict(t, sets, tt.wantSet)
		})
	}
}

// checkPortConflict checks for exactly one port conflict naming both clusters and holding
// every wanted substring, or none when want is nil.
func checkPortConflict(t *testing.T, conflicts []model.Conflict, want []string) {
	t.Helper()
	if want == nil {
		if len(conflicts) != 0 {
			t.Errorf("unexpected conflicts %v", conflicts)
		}
		return
	}
	if len(conflicts) != 1 {
		t.Fatalf("got %d port conflicts, want 1: %v", len(conflicts), conflicts)
	}
	c := conflicts[0]
	if !slices.Equal(c.Clusters, []string{"e1", "e2"}) {
		t.Errorf("conflict clusters %v, want [e1 e2]", c.Clusters)
	}
	for _, s := range want {
		if !strings.Contains(c.Message, s) {
			t.Errorf("conflict message %q lacks %q", c.Message, s)
		}
	}
}

// TestPortsEndpointNames: an exporter's endpoints are mapped onto the merged port names, and
// ports the service does not expose are dropped.
func TestPortsEndpointNames(t *testing.T) {
	in := Input{Clusters: fixtureClusters(), Segments: fixtureSegments(), Exports: []model.ClusterExport{
		export("e1", model.ScopeGlobal, 0, withPorts(tcp("web", 80), tcp("admin", 9000)),
			withEndpoints(endpoint("10.0.1.1", true, "web", "admin"))),
		export("e2", model.ScopeGlobal, 1, withPorts(tcp("http", 80), tcp("admin", 9001), tcp("other", 9000)),
			withEndpoints(endpoint("10.0.2.1", true, "http", "admin", "other", "undeclared"))),
	}}
	s := onlyService(t, in)
	want := map[string][]model.EndpointPort{
		"e1": {{Name: "web", Port: 8080}, {Name: "admin", Port: 8081}},
		// http joins web by 80/TCP; admin joins admin by name; other (9000/TCP) would be a
		// second e2 port on the merged admin port, so it is dropped, as is undeclared.
		"e2": {{Name: "web", Port: 8080}, {Name: "admin", Port: 8081}},
	}
	for c, w := range want {
		eps := s.EndpointsOf(c)
		if len(eps) != 1 || !slices.Equal(eps[0].Ports, w) {
			t.Errorf("%s endpoints %v, want ports %v", c, eps, w)
		}
	}
	if n := len(conflictsOf(&s.Global, model.ReasonPortConflict)); n != 2 {
		t.Errorf("got %d port conflicts, want 2 (web/http, admin/other): %v", n, s.Global.Conflicts)
	}
}

// TestPortsUnique: merged ports never share a name nor a (protocol, number) pair, even when
// a protocol fallback would make them.
func TestPortsUnique(t *testing.T) {
	in := Input{Clusters: fixtureClusters(), Segments: fixtureSegments(), Exports: []model.ClusterExport{
		export("e1", model.ScopeGlobal, 0, withPorts(udp("x", 53), model.Port{Name: "y", Port: 53, Protocol: "SCTP"})),
		export("e2", model.ScopeGlobal, 1, withPorts(tcp("x", 53), tcp("y", 53))),
	}}
	svc := onlyService(t, in).Global
	if err := checkPorts(svc.Ports); err != "" {
		t.Error(err)
	}
}
