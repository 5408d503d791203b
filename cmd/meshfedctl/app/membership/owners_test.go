package membership

import (
	"slices"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/apis/wellknown"
)

func TestOwners(t *testing.T) {
	tests := []struct {
		value string
		want  []string
	}{
		{"", nil},
		{"a@h", []string{"a@h"}},
		{"b@h, a@h,,b@h ", []string{"a@h", "b@h"}},
		{" , ", nil},
	}
	for _, tt := range tests {
		if got := Owners(tt.value); !slices.Equal(got, tt.want) {
			t.Errorf("Owners(%q) = %q, want %q", tt.value, got, tt.want)
		}
	}
}

func TestReleaseOwner(t *testing.T) {
	tests := []struct {
		name        string
		annotations map[string]string
		join        string
		wantDel     bool
		wantOthers  []string
	}{
		{"unmarked object predates marks", map[string]string{"x": "y"}, "a@h", true, nil},
		{"last owner", map[string]string{wellknown.OwnersAnnotation: "a@h"}, "a@h", true, nil},
		{"another join remains", map[string]string{wellknown.OwnersAnnotation: "a@h,b@h"}, "a@h", false, []string{"b@h"}},
		{"only another join", map[string]string{wellknown.OwnersAnnotation: "b@h"}, "a@h", false, []string{"b@h"}},
		{"same name, other hub", map[string]string{wellknown.OwnersAnnotation: "a@h,a@k"}, "a@h", false, []string{"a@k"}},
		{"empty mark", map[string]string{wellknown.OwnersAnnotation: ""}, "a@h", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := maps(tt.annotations)
			r := releaseOwner(tt.annotations, tt.join)
			if r.del != tt.wantDel || !slices.Equal(r.others, tt.wantOthers) {
				t.Fatalf("releaseOwner = %+v, want del %v others %q", r, tt.wantDel, tt.wantOthers)
			}
			if !r.del && r.annotations[wellknown.OwnersAnnotation] != strings.Join(tt.wantOthers, ",") {
				t.Errorf("kept annotations %v", r.annotations)
			}
			if maps(tt.annotations) != before {
				t.Error("releaseOwner changed its input")
			}
		})
	}
}

// maps renders a map for comparison.
func maps(m map[string]string) string {
	var kv []string
	for k, v := range m {
		kv = append(kv, k+"="+v)
	}
	slices.Sort(kv)
	return strings.Join(kv, ";")
}

// FuzzOwners: whatever an annotation holds, adding a join and releasing it again leaves the
// other owners as they were, and the object is deleted exactly when no other owner is left.
func FuzzOwners(f *testing.F) {
	f.Add("a@h,b@h", "c@h")
	f.Add("", "a@h")
	f.Add(" ,a@h,,", "a@h")
	f.Fuzz(func(t *testing.T, value, join string) {
		join = strings.TrimSpace(join)
		if join == "" || strings.Contains(join, ",") {
			return
		}
		before := Owners(value)
		if !slices.IsSorted(before) || slices.Contains(before, "") {
			t.Fatalf("Owners(%q) = %q: not sorted or holds an empty entry", value, before)
		}
		added := addOwner(map[string]string{wellknown.OwnersAnnotation: value}, join)
		if got := Owners(added[wellknown.OwnersAnnotation]); !slices.Contains(got, join) {
			t.Fatalf("addOwner lost %q: %q", join, got)
		}
		r := releaseOwner(added, join)
		others := slices.DeleteFunc(slices.Clone(before), func(o string) bool { return o == join })
		if r.del != (len(others) == 0) || !slices.Equal(r.others, others) {
			t.Fatalf("release after add of %q to %q = %+v, want others %q", join, value, r, others)
		}
	})
}
