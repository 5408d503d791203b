package writeback

import (
	"reflect"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
)

// TestEndpointFieldsCompared: endpointEqual names every field of an EndpointSlice endpoint and
// of its conditions. A field a newer API adds would be ignored by it: this test then fails, and
// endpointEqual must learn the field.
func TestEndpointFieldsCompared(t *testing.T) {
	for _, tc := range []struct {
		typ  reflect.Type
		want []string
	}{
		{reflect.TypeFor[discoveryv1.Endpoint](), []string{"Addresses", "Conditions", "Hostname", "TargetRef", "DeprecatedTopology", "NodeName", "Zone", "Hints"}},
		{reflect.TypeFor[discoveryv1.EndpointConditions](), []string{"Ready", "Serving", "Terminating"}},
	} {
		var got []string
		for f := range tc.typ.Fields() {
			got = append(got, f.Name)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s has fields %v; endpointEqual compares %v", tc.typ, got, tc.want)
		}
	}
}

// FuzzEndpointEqual: endpointEqual agrees with equality.Semantic.DeepEqual on pairs of
// endpoints that differ, or not, in any field, nil against empty included.
func FuzzEndpointEqual(f *testing.F) {
	f.Add([]byte{}, []byte{})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13})
	f.Add([]byte{0, 1}, []byte{0, 2})
	f.Fuzz(func(t *testing.T, x, y []byte) {
		a, b := fuzzEndpoint(x), fuzzEndpoint(y)
		want := equality.Semantic.DeepEqual(a, b)
		if got := endpointEqual(&a, &b); got != want {
			t.Fatalf("endpointEqual(%+v, %+v) = %v, Semantic.DeepEqual = %v", a, b, got, want)
		}
		if got := endpointsEqual([]discoveryv1.Endpoint{a}, []discoveryv1.Endpoint{b}); got != want {
			t.Fatalf("endpointsEqual = %v, Semantic.DeepEqual = %v", got, want)
		}
	})
}

// fuzzEndpoint builds an endpoint from bytes: each byte, in turn, picks a value (or nil, or
// empty) for one field, so that two inputs differing in one byte differ in one field.
func fuzzEndpoint(in []byte) discoveryv1.Endpoint {
	at := 0
	next := func() byte {
		if at >= len(in) {
			return 0
		}
		at++
		return in[at-1]
	}
	str := func() *string {
		switch v := next() % 4; v {
		case 0:
			return nil
		case 1:
			return new("")
		default:
			return new(string(rune('a' + v)))
		}
	}
	flag := func() *bool {
		switch next() % 3 {
		case 0:
			return nil
		case 1:
			return new(false)
		default:
			return new(true)
		}
	}
	var e discoveryv1.Endpoint
	switch v := next() % 4; v {
	case 0:
	case 1:
		e.Addresses = []string{}
	default:
		e.Addresses = []string{"10.0.0." + string(rune('0'+v))}
	}
	e.Conditions = discoveryv1.EndpointConditions{Ready: flag(), Serving: flag(), Terminating: flag()}
	e.Hostname = str()
	if v := next() % 3; v > 0 {
		e.TargetRef = &corev1.ObjectReference{Kind: "Pod", Name: "p" + string(rune('0'+v))}
	}
	switch v := next() % 3; v {
	case 1:
		e.DeprecatedTopology = map[string]string{}
	case 2:
		e.DeprecatedTopology = map[string]string{"k": "v"}
	}
	e.NodeName = str()
	e.Zone = str()
	switch next() % 4 {
	case 1:
		e.Hints = &discoveryv1.EndpointHints{}
	case 2:
		e.Hints = &discoveryv1.EndpointHints{ForZones: []discoveryv1.ForZone{{Name: "a"}}}
	case 3:
		e.Hints = &discoveryv1.EndpointHints{ForZones: []discoveryv1.ForZone{{Name: "b"}}}
	}
	return e
}

// BenchmarkEndpointsEqual compares two equal slices' worth of endpoints (MaxSliceEndpoints, as
// the hub builds them) field by field and, for the record, reflectively as the hub did before.
func BenchmarkEndpointsEqual(b *testing.B) {
	build := func() []discoveryv1.Endpoint {
		out := make([]discoveryv1.Endpoint, MaxSliceEndpoints)
		for i := range out {
			out[i] = discoveryv1.Endpoint{
				Addresses:  []string{"10.1." + string(rune('0'+i%10)) + ".1"},
				Conditions: discoveryv1.EndpointConditions{Ready: new(i%7 != 0), Serving: new(true), Terminating: new(false)},
				Zone:       new("eu-west-1a"),
			}
		}
		return out
	}
	x, y := build(), build()
	b.Run("fields", func(b *testing.B) {
		for b.Loop() {
			if !endpointsEqual(x, y) {
				b.Fatal("not equal")
			}
		}
	})
	b.Run("semantic", func(b *testing.B) {
		for b.Loop() {
			if !equality.Semantic.DeepEqual(x, y) {
				b.Fatal("not equal")
			}
		}
	})
}
