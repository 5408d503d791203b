package store

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/meshfed/meshfed/federation/model"
)

// golden is one checked-in stored value: testdata/v<version>/<file> holds the value exactly as
// etcd stores it under key, followed by one newline; want is the model value it stands for
// (a *model.PublishedCluster, *model.PublishedService, *model.PublishedEndpoints or
// *model.PublishedWaypoints).
type golden struct {
	file string
	key  Key
	want any
}

// goldenV1 are the schema version 1 values. Their bytes were written by the store code of
// December 2026 (before the store had its own record types) and must never be regenerated:
// a hub upgrade reads exactly these bytes. Optional fields added within version 1 get a value
// of their own (service-loadpolicy.json, written when ServiceRecord.LoadPolicy was added;
// service-properties.json, when ServiceRecord.Properties was; endpoints-hostname.json, when
// StoredEndpoint.Hostname was; service-remoteendpoints.json, when
// StoredLoadPolicy.RemoteEndpoints was), so that the older files keep pinning how a record
// without them reads.
func goldenV1() []golden {
	u := func(n uint32) *uint32 { return &n }
	d := func(v time.Duration) *time.Duration { return &v }
	return []golden{
		{"cluster.json", ClusterKey("east-1"), &model.PublishedCluster{
			Cluster: model.Cluster{Name: "east-1", Network: "net-a", Region: "eu-west-1", Segment: "default"}, Ready: true,
			LastSync: time.Date(2026, 12, 5, 21, 30, 15, 123456789, time.UTC),
		}},
		{"cluster-minimal.json", ClusterKey("west-1"), &model.PublishedCluster{Cluster: model.Cluster{Name: "west-1", Network: "net-b", Segment: "default"}}},
		{"service.json", ServiceKey("shop", "mesh.internal", "cart"), &model.PublishedService{
			GlobalService: model.GlobalService{
				Namespace: "shop", Name: "cart", Domain: "mesh.internal", Hostname: "cart.shop.mesh.internal",
				Scope: model.ScopeGlobalOnly, Takeover: true, Type: model.ServiceTypeClusterSetIP,
				Ports:        []model.Port{{Name: "http", Port: 80, Protocol: "TCP", AppProtocol: "http"}, {Port: 53, Protocol: "UDP"}},
				Distribution: model.Distribution{Mode: model.ModeFailoverPriority, FailoverPriority: []string{"topology.istio.io/network", "topology.kubernetes.io/zone"}},
				Outlier: &model.OutlierPolicy{
					Consecutive5xxErrors: u(3), ConsecutiveGatewayErrors: u(0), ConsecutiveLocalOriginFailures: u(7),
					BaseEjectionTime: d(10 * time.Second), MaxEjectionTime: d(90 * time.Second), MaxEjectionPercent: u(50),
				},
				Exporters: []model.Exporter{{Cluster: "east-1", Scope: model.ScopeGlobalOnly}, {Cluster: "west-1", Scope: model.ScopeSegment}},
				Imports:   []model.Import{{Cluster: "east-1", From: []string{"east-1", "west-1"}}, {Cluster: "north-1", From: []string{"east-1"}}},
				Conflicts: []model.Conflict{{
					Reason: model.ReasonTrafficDistributionConflict, Message: `clusters "east-1" & "west-1" disagree <PreferClose>`,
					Clusters: []string{"east-1", "west-1"},
				}},
			},
			WaypointPorts: []int32{20000, 0},
		}},
		{"service-loadpolicy.json", ServiceKey("shop", "mesh.internal", "search"), &model.PublishedService{
			GlobalService: model.GlobalService{
				Namespace: "shop", Name: "search", Domain: "mesh.internal", Hostname: "search.shop.mesh.internal",
				Scope: model.ScopeGlobal, Type: model.ServiceTypeClusterSetIP,
				Ports:        []model.Port{{Name: "http", Port: 8080, Protocol: "TCP"}},
				Distribution: model.Distribution{Mode: model.ModePreferClose},
				Load:         &model.LoadPolicy{OverprovisioningFactor: u(200), PanicThreshold: u(0)},
				Imports:      []model.Import{{Cluster: "east-1", From: []string{"east-1"}}},
			},
			WaypointPorts: []int32{20001},
		}},
		{"service-remoteendpoints.json", ServiceKey("shop", "mesh.internal", "catalog"), &model.PublishedService{
			GlobalService: model.GlobalService{
				Namespace: "shop", Name: "catalog", Domain: "mesh.internal", Hostname: "catalog.shop.mesh.internal",
				Scope: model.ScopeGlobal, Type: model.ServiceTypeClusterSetIP,
				Ports:        []model.Port{{Name: "http", Port: 8080, Protocol: "TCP"}},
				Distribution: model.Distribution{Mode: model.ModePreferNetwork},
				Load:         &model.LoadPolicy{RemoteEndpoints: model.RemoteEndpointsAggregated},
				Imports:      []model.Import{{Cluster: "east-1", From: []string{"east-1", "west-1"}}},
			},
			WaypointPorts: []int32{20003},
		}},
		{"service-properties.json", ServiceKey("shop", "mesh.internal", "sticky"), &model.PublishedService{
			GlobalService: model.GlobalService{
				Namespace: "shop", Name: "sticky", Domain: "mesh.internal", Hostname: "sticky.shop.mesh.internal",
				Scope: model.ScopeGlobal, Type: model.ServiceTypeClusterSetIP,
				Ports:        []model.Port{{Name: "tcp", Port: 42, Protocol: "TCP"}},
				Distribution: model.Distribution{Mode: model.ModePreferClose},
				Properties: model.ServiceProperties{
					SessionAffinity: "ClientIP", SessionAffinityTimeout: new(int32(10)), InternalTrafficPolicy: "Cluster",
					TrafficDistribution: "PreferClose", IPFamilies: []string{"IPv6", "IPv4"},
				},
				Imports: []model.Import{{Cluster: "east-1", From: []string{"east-1"}}},
			},
			WaypointPorts: []int32{20002},
		}},
		{"service-minimal.json", ServiceKey("shop", "mesh.internal", "db"), &model.PublishedService{
			GlobalService: model.GlobalService{
				Namespace: "shop", Name: "db", Domain: "mesh.internal", Hostname: "db.shop.mesh.internal",
				Scope: model.ScopeCluster, Type: model.ServiceTypeHeadless, Ports: []model.Port{},
				Distribution: model.Distribution{Mode: model.ModePreferNetwork},
				Imports:      []model.Import{{Cluster: "east-1"}},
			},
			WaypointPorts: []int32{},
		}},
		{"endpoints.json", EndpointsKey("shop", "mesh.internal", "cart", "east-1"), &model.PublishedEndpoints{
			Namespace: "shop", Domain: "mesh.internal", Name: "cart", Cluster: "east-1", Scope: model.ScopeGlobal, Stale: true,
			Endpoints: []model.Endpoint{
				{
					Address: "10.1.0.7", Ports: []model.EndpointPort{{Name: "http", Port: 8080}, {Port: 9090}},
					Locality: model.Locality{Network: "net-a", Region: "eu-west-1", Zone: "eu-west-1a", Subzone: "rack-4", Node: "ip-10-1-0-3.eu-west-1.compute.internal", Cluster: "east-1"},
					Ready:    true, Serving: true, Weight: 3, Labels: map[string]string{"topology.kubernetes.io/zone": "eu-west-1a", "tier": "gold"},
				},
				{
					Address:  "fd00:10:1::9",
					Locality: model.Locality{Network: "net-a", Cluster: "east-1"},
					Serving:  true, Terminating: true,
				},
			},
		}},
		{"endpoints-hostname.json", EndpointsKey("shop", "mesh.internal", "db", "east-1"), &model.PublishedEndpoints{
			Namespace: "shop", Domain: "mesh.internal", Name: "db", Cluster: "east-1", Scope: model.ScopeGlobal,
			Endpoints: []model.Endpoint{{Address: "10.1.0.8", Hostname: "db-0", Locality: model.Locality{Cluster: "east-1"}, Ready: true, Serving: true}},
		}},
		{"endpoints-minimal.json", EndpointsKey("shop", "mesh.internal", "cart", "west-1"), &model.PublishedEndpoints{
			Namespace: "shop", Domain: "mesh.internal", Name: "cart", Cluster: "west-1", Scope: model.ScopeSegment,
		}},
		{"waypoints.json", WaypointsKey("shop", "east-1"), &model.PublishedWaypoints{
			Namespace: "shop", Cluster: "east-1", Network: "net-a", Addresses: []string{"192.0.2.10:15008", "[2001:db8::1]:15008", "waypoint.east.example.com:15008"},
		}},
		{"waypoints-minimal.json", WaypointsKey("shop", "west-1"), &model.PublishedWaypoints{Namespace: "shop", Cluster: "west-1", Network: "net-b"}},
		{"gateway.json", GatewayKey("south-1", "meshfed-system"), &model.PublishedGateway{
			Cluster: "south-1", Namespace: "meshfed-system", Serves: []string{"bank", "shop"},
		}},
		{"waypoints-gateway.json", WaypointsKey("shop", "south-1"), &model.PublishedWaypoints{
			Namespace: "shop", Cluster: "south-1", Network: "net-c", Addresses: []string{"192.0.2.30:15008"},
			Gateway: "meshfed-system", Identity: "spiffe://cluster.local/ns/meshfed-system/sa/meshfed-gateway",
		}},
	}
}

// TestGoldenV1 pins the stored format and both conversions: each checked-in value decodes to
// a record that encodes back to the same bytes and reads as the model value it stands for,
// and the hub's record of that model value encodes to the same bytes. A renamed or retyped
// JSON field, a changed omitempty, a reordered field or a changed conversion fails here
// instead of silently changing stored data.
func TestGoldenV1(t *testing.T) {
	for _, g := range goldenV1() {
		t.Run(g.file, func(t *testing.T) {
			stored := readGolden(t, "v1", g.file)
			rec, err := Decode(g.key.String(), stored)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got := modelOf(rec); !reflect.DeepEqual(got, g.want) {
				t.Fatalf("decoded record reads as\n %+v\nwant\n %+v", got, g.want)
			}
			for _, r := range []Record{rec, recordOf(g.want)} {
				key, again, err := Encode(r)
				if err != nil {
					t.Fatalf("Encode: %v", err)
				}
				if key != g.key.String() {
					t.Fatalf("Encode key = %q, want %q", key, g.key.String())
				}
				if !bytes.Equal(again, stored) {
					t.Fatalf("encoded value differs from the stored one:\n got %s\nwant %s", again, stored)
				}
			}
		})
	}
}

// recordOf is the hub's record of a golden model value.
func recordOf(m any) Record {
	switch m := m.(type) {
	case *model.PublishedCluster:
		return NewClusterRecord(m)
	case *model.PublishedService:
		return NewServiceRecord(m)
	case *model.PublishedEndpoints:
		return NewEndpointsRecord(m)
	case *model.PublishedWaypoints:
		return NewWaypointsRecord(m)
	case *model.PublishedGateway:
		return NewGatewayRecord(m)
	}
	panic(fmt.Sprintf("no record for %T", m))
}

// modelOf is what a reader makes of a record.
func modelOf(r Record) any {
	switch r := r.(type) {
	case *ClusterRecord:
		m := r.Model()
		return &m
	case *ServiceRecord:
		m := r.Model()
		return &m
	case *EndpointsRecord:
		m := r.Model()
		return &m
	case *WaypointsRecord:
		m := r.Model()
		return &m
	case *GatewayRecord:
		m := r.Model()
		return &m
	}
	panic(fmt.Sprintf("no model for %T", r))
}

// TestGoldenV1CoversEveryField fails when a record gains a field that no golden value sets, so
// that every stored field is pinned by a checked-in value.
func TestGoldenV1CoversEveryField(t *testing.T) {
	set := map[string]bool{}
	for _, g := range goldenV1() {
		r := recordOf(g.want)
		markSet(set, reflect.ValueOf(r).Elem(), reflect.TypeOf(r).Elem().Name())
	}
	for _, g := range goldenV1() {
		r := recordOf(g.want)
		for _, path := range fieldPaths(reflect.TypeOf(r).Elem(), reflect.TypeOf(r).Elem().Name()) {
			if !set[path] && !goldenAlwaysZero[path] {
				t.Errorf("no golden value sets %s", path)
			}
		}
	}
}

// goldenAlwaysZero are stored fields the hub writes as their zero value, so a golden value
// written as the hub writes it leaves them unset.
var goldenAlwaysZero = map[string]bool{
	"ServiceRecord.Exporters.Endpoints": true,
	"ServiceRecord.Exporters.Ready":     true,
}

// markSet records the path of every field of v that is not zero.
func markSet(set map[string]bool, v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			markSet(set, v.Elem(), path)
		}
	case reflect.Slice:
		for i := range v.Len() {
			markSet(set, v.Index(i), path)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			return
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			p := path + "." + f.Name
			if f.Anonymous {
				p = path
			}
			if !v.Field(i).IsZero() {
				set[p] = true
			}
			markSet(set, v.Field(i), p)
		}
	default:
		// scalars and maps: their field was marked by the struct holding them
	}
}

// fieldPaths lists the paths of every field under t, as markSet names them.
func fieldPaths(t reflect.Type, path string) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == reflect.TypeFor[time.Time]() {
		return nil
	}
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() && !f.Anonymous {
			continue // not encoded, so not stored
		}
		p := path + "." + f.Name
		if f.Anonymous {
			p = path
		} else {
			out = append(out, p)
		}
		out = append(out, fieldPaths(f.Type, p)...)
	}
	return out
}

// readGolden reads testdata/<version>/<file> and returns the stored value without the final
// newline.
func readGolden(t *testing.T, version, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", version, file))
	if err != nil {
		t.Fatal(err)
	}
	v, ok := bytes.CutSuffix(b, []byte("\n"))
	if !ok {
		t.Fatalf("%s/%s does not end with one newline", version, file)
	}
	return v
}
