package writeback

import (
	"maps"
	"testing"
	"time"

	"github.com/meshfed/meshfed/apis/wellknown"
)

func TestImportAnnotations(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	host := "web.shop.mesh.internal"
	on := map[string]string{wellknown.HostnameAnnotation: host, wellknown.TakeoverAnnotation: "true"}
	releasing := func(until time.Time) map[string]string {
		return map[string]string{wellknown.HostnameAnnotation: host, wellknown.TakeoverAnnotation: "true",
			wellknown.TakeoverReleaseAnnotation: until.Format(time.RFC3339)}
	}
	off := map[string]string{wellknown.HostnameAnnotation: host}
	tests := []struct {
		name string
		want bool
		cur  map[string]string
		out  map[string]string
	}{
		{"new import, no takeover", false, nil, off},
		{"new import with takeover", true, nil, on},
		{"takeover stays on", true, on, on},
		{"takeover ends: released for the grace period", false, on, releasing(now.Add(TakeoverGrace))},
		{"still releasing", false, releasing(now.Add(time.Second)), releasing(now.Add(time.Second))},
		{"release over", false, releasing(now), off},
		{"asked again while releasing", true, releasing(now.Add(time.Second)), on},
		{"unparsable release time restarts the grace", false, map[string]string{wellknown.TakeoverAnnotation: "true", wellknown.TakeoverReleaseAnnotation: "soon"}, releasing(now.Add(TakeoverGrace))},
		{"someone else's value is not takeover", false, map[string]string{wellknown.TakeoverAnnotation: "yes"}, off},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := importAnnotations(host, tt.want, tt.cur, now)
			if !maps.Equal(got, tt.out) {
				t.Errorf("got %v, want %v", got, tt.out)
			}
			if !annotationsHold(setAnnotations(map[string]string{"team": "shop"}, got), got) {
				t.Error("setAnnotations does not bring a map in line with annotationsHold")
			}
		})
	}
}
