package store

import (
	"errors"
	"testing"
)

func TestKeyStringAndParse(t *testing.T) {
	tests := []struct {
		name string
		key  Key
		want string
	}{
		{"cluster", ClusterKey("east-1"), "/meshfed/v1/clusters/east-1"},
		{"service", ServiceKey("shop", "mesh.internal", "cart"), "/meshfed/v1/ns/shop/services/mesh.internal/cart"},
		{"endpoints", EndpointsKey("shop", "mesh.internal", "cart", "east-1"), "/meshfed/v1/ns/shop/endpoints/mesh.internal/cart/east-1"},
		{"waypoints", WaypointsKey("shop", "east-1"), "/meshfed/v1/ns/shop/waypoints/east-1"},
		{"gateway", GatewayKey("east-1", "meshfed-system"), "/meshfed/v1/gateways/east-1/meshfed-system"},
		{"endpoints chunk", EndpointsChunkKey("shop", "mesh.internal", "cart", "east-1", "0123456789abcdef"), "/meshfed/v1/ns/shop/endpoints/mesh.internal/cart/east-1/0123456789abcdef"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.key.String(); got != tt.want {
				t.Fatalf("String() = %q, want %q", got, tt.want)
			}
			got, err := ParseKey(tt.want)
			if err != nil {
				t.Fatalf("ParseKey(%q): %v", tt.want, err)
			}
			if got != tt.key {
				t.Fatalf("ParseKey(%q) = %+v, want %+v", tt.want, got, tt.key)
			}
		})
	}
}

func TestParseKeyRejects(t *testing.T) {
	tests := []string{
		"",
		"/meshfed/v1/",
		"/meshfed/v2/clusters/east",
		"meshfed/v1/clusters/east",
		"/meshfed/v1/clusters/",
		"/meshfed/v1/clusters/east/extra",
		"/meshfed/v1/clusters/East",
		"/meshfed/v1/clusters/-east",
		"/meshfed/v1/clusters/east.",
		"/meshfed/v1/ns/shop/services/mesh.internal",
		"/meshfed/v1/ns/shop/services/mesh.internal/cart/",
		"/meshfed/v1/ns/shop/services//cart",
		"/meshfed/v1/ns/shop/endpoints/mesh.internal/cart",
		"/meshfed/v1/ns/shop/waypoints/",
		"/meshfed/v1/ns/shop/gateways/east",
		"/meshfed/v1/gateways/east",
		"/meshfed/v1/gateways/east/",
		"/meshfed/v1/gateways/east/meshfed-system/x",
		"/meshfed/v1/gateways//meshfed-system",
		"/meshfed/v1/ns//waypoints/east",
		"/meshfed/v1/ns/sh_op/waypoints/east",
		"/meshfed/v1/leader/694d7a1b2c3d4e5f",
		"/meshfed/v1/ns/shop/waypoints/east\x00",
		"/meshfed/v1/ns/shop/endpoints/mesh.internal/cart/east/0123456789ABCDEF",
		"/meshfed/v1/ns/shop/endpoints/mesh.internal/cart/east/0123456789abcde",
		"/meshfed/v1/ns/shop/endpoints/mesh.internal/cart/east/0123456789abcdef0",
		"/meshfed/v1/ns/shop/endpoints/mesh.internal/cart/east/0123456789abcdeg",
		"/meshfed/v1/ns/shop/endpoints/mesh.internal/cart/east/0123456789abcdef/x",
		"/meshfed/v1/ns/shop/services/mesh.internal/cart/0123456789abcdef",
	}
	for _, s := range tests {
		t.Run(s, func(t *testing.T) {
			if k, err := ParseKey(s); !errors.Is(err, ErrMalformedKey) {
				t.Fatalf("ParseKey(%q) = %+v, %v; want ErrMalformedKey", s, k, err)
			}
		})
	}
}

func TestKeyValidateRejectsFieldsOfOtherKinds(t *testing.T) {
	tests := []Key{
		{Kind: KindCluster, Cluster: "east", Namespace: "shop"},
		{Kind: KindWaypoints, Namespace: "shop", Cluster: "east", Name: "cart"},
		{Kind: KindService, Namespace: "shop", Domain: "d", Name: "cart", Cluster: "east"},
		{Kind: Kind(9), Cluster: "east"},
		{Kind: KindEndpoints, Namespace: "shop", Domain: "d", Name: "cart", Cluster: "east", Chunk: "0123456789abcdef"},
		{Kind: KindEndpointsChunk, Namespace: "shop", Domain: "d", Name: "cart", Cluster: "east"},
		{},
	}
	for _, k := range tests {
		if err := k.Validate(); !errors.Is(err, ErrMalformedKey) {
			t.Errorf("Validate(%+v) = %v, want ErrMalformedKey", k, err)
		}
	}
}

func TestSegmentLength(t *testing.T) {
	long := make([]byte, maxSegment+1)
	for i := range long {
		long[i] = 'a'
	}
	if err := ClusterKey(string(long[:maxSegment])).Validate(); err != nil {
		t.Fatalf("253 characters rejected: %v", err)
	}
	if err := ClusterKey(string(long)).Validate(); err == nil {
		t.Fatal("254 characters accepted")
	}
}

// FuzzParseKey checks that ParseKey never panics, and that every key it accepts is valid and
// renders back to exactly the input.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{
		"/meshfed/v1/clusters/east",
		"/meshfed/v1/ns/shop/services/mesh.internal/cart",
		"/meshfed/v1/ns/shop/endpoints/mesh.internal/cart/east",
		"/meshfed/v1/ns/shop/waypoints/east",
		"/meshfed/v1/ns/shop/waypoints/east/",
		"/meshfed/v1/ns/shop/endpoints/mesh.internal/cart/east/0123456789abcdef",
		"/meshfed/v1/leader/1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKey(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedKey) {
				t.Fatalf("ParseKey(%q) error %v does not wrap ErrMalformedKey", s, err)
			}
			return
		}
		if err := k.Validate(); err != nil {
			t.Fatalf("ParseKey(%q) accepted an invalid key: %v", s, err)
		}
		if got := k.String(); got != s {
			t.Fatalf("ParseKey(%q).String() = %q", s, got)
		}
	})
}
