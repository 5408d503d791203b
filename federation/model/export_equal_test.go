package model

import (
	"reflect"
	"slices"
	"testing"
)

// TestSameServiceCoversEveryField: two exports that differ in any one field but their
// endpoints, including a field added later, are not the SameService (the merge would otherwise
// keep a service that changed); nor are policies or properties that differ in any one field
// Equal. Exports that differ only in their endpoints are.
func TestSameServiceCoversEveryField(t *testing.T) {
	equalCoversEveryField(t, (*ClusterExport).SameService, "Endpoints", "EndpointsPatch")
	equalCoversEveryField(t, (*OutlierPolicy).Equal)
	equalCoversEveryField(t, (*LoadPolicy).Equal)
	equalCoversEveryField(t, (*ServiceProperties).Equal)

	a := ClusterExport{Cluster: "east", Ports: []Port{{Name: "http", Port: 80}}}
	b := a
	b.Endpoints, b.EndpointsPatch = []Endpoint{{Address: "10.0.0.1"}}, &EndpointsPatch{}
	b.Ports = slices.Clone(a.Ports)
	if !a.SameService(&b) {
		t.Error("exports differing only in their endpoints are not the SameService")
	}
	var none *OutlierPolicy
	if !none.Equal(nil) || none.Equal(&OutlierPolicy{}) {
		t.Error("a nil outlier policy is not Equal to nil only")
	}
}

// equalCoversEveryField checks that eq tells apart two zero values of T of which one has any
// one field, but those named in skip, set.
func equalCoversEveryField[T any](t *testing.T, eq func(a, b *T) bool, skip ...string) {
	t.Helper()
	typ := reflect.TypeFor[T]()
	for i := range typ.NumField() {
		if slices.Contains(skip, typ.Field(i).Name) {
			continue
		}
		var a, b T
		if !eq(&a, &b) {
			t.Fatalf("%s: two zero values are not equal", typ.Name())
		}
		f := reflect.ValueOf(&b).Elem().Field(i)
		if !setNonZero(f) {
			t.Fatalf("%s.%s of kind %s: teach setNonZero to set it", typ.Name(), typ.Field(i).Name, f.Kind())
		}
		if eq(&a, &b) || eq(&b, &a) {
			t.Errorf("values of %s differing in %s are equal", typ.Name(), typ.Field(i).Name)
		}
	}
}
