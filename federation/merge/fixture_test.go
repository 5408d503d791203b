package merge

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/meshfed/meshfed/federation/model"
)

// t0 is the creation time of the oldest export in the fixtures.
var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// at returns t0 plus n minutes.
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

// fixtureSegments: east and west have their own domains; north has no Segment object.
func fixtureSegments() []model.Segment {
	return []model.Segment{
		{Name: "east", Domain: "east.example"},
		{Name: "west", Domain: "west.example"},
	}
}

// fixtureClusters: e1, e2, e3 in east; w1, w2 in west; n1 in north (default domain).
func fixtureClusters() []model.Cluster {
	return []model.Cluster{
		{Name: "e1", Segment: "east", Network: "net-e", Region: "eu"},
		{Name: "e2", Segment: "east", Network: "net-e", Region: "eu"},
		{Name: "e3", Segment: "east", Network: "net-e2", Region: "eu"},
		{Name: "w1", Segment: "west", Network: "net-w", Region: "us"},
		{Name: "w2", Segment: "west", Network: "net-w", Region: "us"},
		{Name: "n1", Segment: "north", Network: "net-n"},
	}
}

// exportOption changes a fixture export.
type exportOption func(*model.ClusterExport)

// export builds ns/svc exported by the cluster with the scope, one TCP port 80 named http and
// one ready endpoint, created at t0 plus age minutes.
func export(cluster string, scope model.Scope, age int, opts ...exportOption) model.ClusterExport {
	e := model.ClusterExport{
		Cluster: cluster, Namespace: "ns", Name: "svc", Scope: scope, Created: at(age),
		Type:      model.ServiceTypeClusterSetIP,
		Ports:     []model.Port{{Name: "http", Port: 80, Protocol: "TCP"}},
		Endpoints: []model.Endpoint{endpoint("10.0.0.1", true, "http")},
	}
	for _, o := range opts {
		o(&e)
	}
	return e
}

// withPorts replaces the export's ports.
func withPorts(ps ...model.Port) exportOption {
	return func(e *model.ClusterExport) { e.Ports = ps }
}

// withEndpoints replaces the export's endpoints.
func withEndpoints(eps ...model.Endpoint) exportOption {
	return func(e *model.ClusterExport) { e.Endpoints = eps }
}

// withName sets the exported service's name.
func withName(name string) exportOption {
	return func(e *model.ClusterExport) { e.Name = name }
}

// withType sets the export's type.
func withType(t model.ServiceType) exportOption {
	return func(e *model.ClusterExport) { e.Type = t }
}

// withTakeover sets the export's takeover.
func withTakeover() exportOption {
	return func(e *model.ClusterExport) { e.Takeover = true }
}

// withDistribution sets an explicit distribution.
func withDistribution(m model.Mode, keys ...string) exportOption {
	return func(e *model.ClusterExport) {
		e.Distribution = model.Distribution{Mode: m, FailoverPriority: keys}
		e.DistributionSet = true
	}
}

// endpoint builds an endpoint serving the named ports on 8080, 8081, ….
func endpoint(addr string, ready bool, ports ...string) model.Endpoint {
	ep := model.Endpoint{Address: addr, Ready: ready, Serving: ready}
	for i, p := range ports {
		ep.Ports = append(ep.Ports, model.EndpointPort{Name: p, Port: int32(8080 + i)})
	}
	return ep
}

// mustJSON marshals v or fails the test.
func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("failed to marshal %T: %v", v, err)
	}
	return b
}

// onlyService merges the input and returns its single service, failing otherwise.
func onlyService(t *testing.T, in Input) Service {
	t.Helper()
	r := Merge(in)
	if len(r.Services) != 1 {
		t.Fatalf("got %d services, want 1: %s", len(r.Services), mustJSON(t, r))
	}
	return r.Services[0]
}

// importsMap turns imports into cluster → From for comparison.
func importsMap(imports []model.Import) map[string][]string {
	m := make(map[string][]string, len(imports))
	for _, im := range imports {
		m[im.Cluster] = im.From
	}
	return m
}

// equalImports compares imports with a wanted cluster → From map.
func equalImports(got []model.Import, want map[string][]string) bool {
	g := importsMap(got)
	if len(g) != len(want) {
		return false
	}
	for c, from := range want {
		if !slices.Equal(g[c], from) {
			return false
		}
	}
	return true
}

// conflictsOf returns the service's conflicts of one reason.
func conflictsOf(svc *model.GlobalService, r model.ConflictReason) []model.Conflict {
	var out []model.Conflict
	for _, c := range svc.Conflicts {
		if c.Reason == r {
			out = append(out, c)
		}
	}
	return out
}
