package model

import "testing"

// TestSameFromNearby: an equal list among the few imports before is shared, one further back
// or a different one is not.
func TestSameFromNearby(t *testing.T) {
	ab, ac := []string{"a", "b"}, []string{"a", "c"}
	lists := [][]string{ab, ac, ac, ac, ac, {"b"}}
	from := func(j int) []string { return lists[j] }
	tests := []struct {
		name string
		i    int
		l    []string
		want []string
	}{
		{"none before", 0, []string{"a", "b"}, nil},
		{"the one before", 1, []string{"a", "b"}, ab},
		{"a few before", 4, []string{"a", "b"}, ab},
		{"too far back", 5, []string{"a", "b"}, nil},
		{"nearest of equal ones", 5, []string{"a", "c"}, ac},
		{"different order", 1, []string{"b", "a"}, nil},
		{"a prefix", 1, []string{"a"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SameFromNearby(tt.i, tt.l, from)
			if (got == nil) != (tt.want == nil) || (got != nil && &got[0] != &tt.want[0]) {
				t.Errorf("SameFromNearby(%d, %v) = %v, want %v itself", tt.i, tt.l, got, tt.want)
			}
		})
	}
}
