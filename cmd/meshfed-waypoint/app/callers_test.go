package app

import (
	"slices"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/hbone/identity"
)

func TestParseCallers(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: "", want: nil},
		{in: " , ,", want: nil},
		{in: "spiffe://cluster.local/ns/b/sa/x, spiffe://cluster.local/ns/a/sa/y,spiffe://cluster.local/ns/b/sa/x", want: []string{"spiffe://cluster.local/ns/a/sa/y", "spiffe://cluster.local/ns/b/sa/x"}},
		{in: "spiffe://cluster.local/ns/a/sa/y,web", wantErr: true},
		{in: "spiffe://Cluster.local/ns/a", wantErr: true},
		{in: strings.Repeat("spiffe://cluster.local/ns/a/sa/y,", maxCallers+1), wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseCallers(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseCallers(%.60q): %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		var s []string
		for _, id := range got {
			s = append(s, id.String())
		}
		if !slices.Equal(s, tt.want) {
			t.Errorf("ParseCallers(%.60q) = %v, want %v", tt.in, s, tt.want)
		}
	}
}

// FuzzParseCallers checks, for any --allow-callers value, that parsing never panics, that every
// ID returned is valid and round-trips, that the result is sorted without duplicates, and that
// formatting the result and parsing it again gives the same list.
func FuzzParseCallers(f *testing.F) {
	f.Add("spiffe://cluster.local/ns/a/sa/b")
	f.Add("spiffe://cluster.local/ns/a/sa/b, spiffe://example.org/x ,,")
	f.Add("spiffe://a/b,spiffe://a/b,spiffe://a/c")
	f.Add("spiffe://cluster.local/ns/../sa/b")
	f.Fuzz(func(t *testing.T, s string) {
		ids, err := ParseCallers(s)
		if err != nil {
			if ids != nil {
				t.Fatalf("error %v with a result %v", err, ids)
			}
			return
		}
		strs := make([]string, 0, len(ids))
		for _, id := range ids {
			if id.IsZero() {
				t.Fatal("zero ID in the result")
			}
			back, err := identity.ParseID(id.String())
			if err != nil || back != id {
				t.Fatalf("ID %s does not round-trip: %v", id, err)
			}
			strs = append(strs, id.String())
		}
		if !slices.IsSorted(strs) || len(slices.Compact(slices.Clone(strs))) != len(strs) {
			t.Fatalf("result not sorted and unique: %v", strs)
		}
		again, err := ParseCallers(strings.Join(strs, ","))
		if err != nil || !slices.Equal(again, ids) {
			t.Fatalf("reparsing %v gave %v, %v", strs, again, err)
		}
	})
}
