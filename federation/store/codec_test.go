package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		rec  Record
	}{
		{"cluster", clusterRecord("east")},
		{"service", serviceRecord("shop", "cart")},
		{"endpoints", endpointsRecord("shop", "cart", "east", 3)},
		{"waypoints", waypointsRecord("shop", "east")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, val, err := Encode(tt.rec)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if !bytes.HasPrefix(val, []byte(`{"v":1,`)) {
				t.Fatalf("value %s does not start with the schema version", val)
			}
			got, err := Decode(key, val)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.rec) {
				t.Fatalf("round trip changed the record:\n got %+v\nwant %+v", got, tt.rec)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	epKey := EndpointsKey("shop", "mesh.internal", "cart", "east").String()
	_, goodEP, err := Encode(endpointsRecord("shop", "cart", "east", 1))
	if err != nil {
		t.Fatal(err)
	}
	_, westEP, err := Encode(endpointsRecord("shop", "cart", "west", 1))
	if err != nil {
		t.Fatal(err)
	}
	foreign := endpointsRecord("shop", "cart", "east", 1)
	foreign.Endpoints[0].Locality.Cluster = "west"
	foreignVal := mustMarshalVersioned(t, foreign)
	svcKey := ServiceKey("shop", "mesh.internal", "catalog").String()
	aggregated, err := os.ReadFile(filepath.Join("testdata", "v1", "service-remoteendpoints.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		key   string
		value []byte
		want  error
	}{
		{"bad key", "/meshfed/v1/ns/shop/nope/east", goodEP, ErrMalformedKey},
		{"not json", epKey, []byte("{not json"), nil},
		{"json array", epKey, []byte(`[1,2]`), nil},
		{"no version", epKey, append([]byte("{"), goodEP[len(`{"v":1,`):]...), ErrUnsupportedVersion},
		{"newer version", epKey, bytes.Replace(goodEP, []byte(`{"v":1,`), []byte(`{"v":3,`), 1), ErrUnsupportedVersion},
		{"version 2 but no head", epKey, bytes.Replace(goodEP, []byte(`{"v":1,`), []byte(`{"v":2,`), 1), ErrInvalidRecord},
		{"version 1 at a chunk key", epKey + "/0123456789abcdef", goodEP, ErrUnsupportedVersion},
		{"head naming a chunk twice", epKey, []byte(`{"v":2,"namespace":"shop","domain":"mesh.internal","name":"cart","cluster":"east","scope":"global","count":2,"chunks":["0123456789abcdef","0123456789abcdef"]}`), ErrInvalidRecord},
		{"other cluster in value", epKey, westEP, ErrKeyMismatch},
		{"endpoint of another cluster", epKey, foreignVal, ErrKeyMismatch},
		{"bad scope", epKey, bytes.Replace(goodEP, []byte(`"scope":"global"`), []byte(`"scope":"galaxy"`), 1), ErrInvalidRecord},
		{"bad address", epKey, bytes.Replace(goodEP, []byte(`"address":"10.4.0.1"`), []byte(`"address":"ten"`), 1), ErrInvalidRecord},
		{"wrong type in field", epKey, []byte(`{"v":1,"endpoints":"x"}`), nil},
		{"unknown remote endpoints", svcKey, bytes.Replace(aggregated, []byte(`"remoteEndpoints":"aggregated"`), []byte(`"remoteEndpoints":"all"`), 1), ErrInvalidRecord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Decode(tt.key, tt.value)
			var derr *DecodeError
			if !errors.As(err, &derr) {
				t.Fatalf("Decode = %+v, %v; want *DecodeError", r, err)
			}
			if derr.Key != tt.key {
				t.Fatalf("DecodeError.Key = %q, want %q", derr.Key, tt.key)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Decode error %v does not wrap %v", err, tt.want)
			}
		})
	}
}

func TestEncodeRejectsInvalidRecords(t *testing.T) {
	badPort := serviceRecord("shop", "cart")
	badPort.Ports[0].WaypointPort = 70000
	badType := serviceRecord("shop", "cart")
	badType.Type = "LoadBalancer"
	badWaypoint := waypointsRecord("shop", "east")
	badWaypoint.Addresses = []string{"192.0.2.1"}
	gateway := func(gw, id string) *WaypointsRecord {
		r := waypointsRecord("shop", "east")
		r.Gateway, r.Identity = gw, id
		return r
	}
	const gwID = "spiffe://cluster.local/ns/meshfed-system/sa/meshfed-gateway"
	zero, over := uint32(0), uint32(101)
	badFactor := serviceRecord("shop", "cart")
	badFactor.LoadPolicy = &StoredLoadPolicy{OverprovisioningFactor: &zero}
	badThreshold := serviceRecord("shop", "cart")
	badThreshold.LoadPolicy = &StoredLoadPolicy{PanicThreshold: &over}
	badRemote := func(v string) *ServiceRecord {
		r := serviceRecord("shop", "cart")
		r.LoadPolicy = &StoredLoadPolicy{RemoteEndpoints: v}
		return r
	}
	withProps := func(p StoredProperties) *ServiceRecord {
		r := serviceRecord("shop", "cart")
		r.Properties = &p
		return r
	}
	tests := []struct {
		name string
		rec  Record
	}{
		{"key", &ClusterRecord{Name: "East"}},
		{"session affinity", withProps(StoredProperties{SessionAffinity: "Cookie"})},
		{"session affinity timeout 0", withProps(StoredProperties{SessionAffinity: "ClientIP", SessionAffinityTimeoutSeconds: new(int32(0))})},
		{"session affinity timeout above a day", withProps(StoredProperties{SessionAffinityTimeoutSeconds: new(int32(86401))})},
		{"internal traffic policy", withProps(StoredProperties{InternalTrafficPolicy: "Node"})},
		{"traffic distribution with a space", withProps(StoredProperties{TrafficDistribution: "Prefer Close"})},
		{"IP family", withProps(StoredProperties{IPFamilies: []string{"IPv5"}})},
		{"IP family twice", withProps(StoredProperties{IPFamilies: []string{"IPv4", "IPv4"}})},
		{"three IP families", withProps(StoredProperties{IPFamilies: []string{"IPv4", "IPv6", "IPv4"}})},
		{"waypoint port", badPort},
		{"service type", badType},
		{"waypoint address", badWaypoint},
		{"identity without gateway", gateway("", gwID)},
		{"gateway without identity", gateway("meshfed-system", "")},
		{"gateway not a namespace", gateway("meshfed.system", gwID)},
		{"identity not spiffe", gateway("meshfed-system", "https://cluster.local/ns/a/sa/b")},
		{"identity without path", gateway("meshfed-system", "spiffe://cluster.local")},
		{"identity with port", gateway("meshfed-system", "spiffe://cluster.local:1/ns/a/sa/b")},
		{"identity with query", gateway("meshfed-system", "spiffe://cluster.local/ns/a/sa/b?x=1")},
		{"gateway serves a bad name", &GatewayRecord{Cluster: "east", Namespace: "gw", Serves: []string{"a.b"}}},
		{"gateway serves itself", &GatewayRecord{Cluster: "east", Namespace: "gw", Serves: []string{"gw"}}},
		{"gateway serves unsorted", &GatewayRecord{Cluster: "east", Namespace: "gw", Serves: []string{"shop", "bank"}}},
		{"gateway serves twice", &GatewayRecord{Cluster: "east", Namespace: "gw", Serves: []string{"bank", "bank"}}},
		{"overprovisioning factor 0", badFactor},
		{"panic threshold above 100", badThreshold},
		{"remote endpoints unknown", badRemote("one-per-cluster")},
		{"remote endpoints in another case", badRemote("Aggregated")},
		{"remote endpoints with blanks", badRemote(" each")},
		{"no hostname", &ServiceRecord{Namespace: "a", Domain: "d", Name: "n", Scope: string(model.ScopeGlobal), Type: string(model.ServiceTypeHeadless)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := Encode(tt.rec); err == nil {
				t.Fatalf("Encode(%+v) accepted an invalid record", tt.rec)
			}
		})
	}
}

func mustMarshalVersioned(t *testing.T, r Record) []byte {
	t.Helper()
	body, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte(`{"v":1,`), body[1:]...)
}

// FuzzDecode checks that Decode never panics, fails only with *DecodeError, and that whatever it
// accepts re-encodes to a value that decodes to the same encoding (the canonical form is a fixed
// point).
func FuzzDecode(f *testing.F) {
	for _, r := range []Record{clusterRecord("east"), serviceRecord("shop", "cart"), endpointsRecord("shop", "cart", "east", 2), waypointsRecord("shop", "east")} {
		key, val, err := Encode(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(key, val)
	}
	head, chunks := goldenV2()
	for _, g := range append(chunks, head) {
		b, err := os.ReadFile(filepath.Join("testdata", "v2", g.file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(g.key.String(), bytes.TrimSuffix(b, []byte("\n")))
	}
	for _, g := range []struct{ file, name string }{{"service-properties.json", "sticky"}, {"service-remoteendpoints.json", "catalog"}} {
		b, err := os.ReadFile(filepath.Join("testdata", "v1", g.file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(ServiceKey("shop", "mesh.internal", g.name).String(), bytes.TrimSuffix(b, []byte("\n")))
	}
	f.Add("/meshfed/v1/clusters/east", []byte(`{"v":1,"name":"east"}`))
	f.Add("/meshfed/v1/clusters/east", []byte(`{"v":2}`))
	f.Fuzz(func(t *testing.T, key string, value []byte) {
		r, err := Decode(key, value)
		if err != nil {
			var derr *DecodeError
			if !errors.As(err, &derr) || derr.Key != key {
				t.Fatalf("Decode(%q) error %v is not a *DecodeError for the key", key, err)
			}
			return
		}
		if r.Key().String() != key {
			t.Fatalf("Decode(%q) returned a record of key %q", key, r.Key())
		}
		k2, v2, err := Encode(r)
		if err != nil {
			t.Fatalf("Encode of a decoded record failed: %v", err)
		}
		r3, err := Decode(k2, v2)
		if err != nil {
			t.Fatalf("Decode of a re-encoded record failed: %v", err)
		}
		_, v3, err := Encode(r3)
		if err != nil || !bytes.Equal(v2, v3) {
			t.Fatalf("encoding is not a fixed point: %s vs %s (%v)", v2, v3, err)
		}
	})
}
