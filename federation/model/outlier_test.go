package model

import (
	"reflect"
	"testing"
	"time"
)

func TestParseOutlierPolicy(t *testing.T) {
	u := func(n uint32) *uint32 { return &n }
	d := func(v time.Duration) *time.Duration { return &v }
	tests := []struct {
		in   string
		want OutlierPolicy
		ok   bool
	}{
		{"", OutlierPolicy{}, true},
		{" , ", OutlierPolicy{}, true},
		{"consecutive5xxErrors=3", OutlierPolicy{Consecutive5xxErrors: u(3)}, true},
		{"consecutive5xxErrors=0, consecutiveGatewayErrors = 2,consecutiveLocalOriginFailures=7", OutlierPolicy{
			Consecutive5xxErrors: u(0), ConsecutiveGatewayErrors: u(2), ConsecutiveLocalOriginFailures: u(7),
		}, true},
		{"baseEjectionTime=10s,maxEjectionTime=2m,maxEjectionPercent=100", OutlierPolicy{
			BaseEjectionTime: d(10 * time.Second), MaxEjectionTime: d(2 * time.Minute), MaxEjectionPercent: u(100),
		}, true},
		{"maxEjectionPercent=101", OutlierPolicy{}, false},
		{"consecutive5xxErrors=-1", OutlierPolicy{}, false},
		{"consecutive5xxErrors=1001", OutlierPolicy{}, false},
		{"consecutive5xxErrors=3,consecutive5xxErrors=4", OutlierPolicy{}, false},
		{"baseEjectionTime=0s", OutlierPolicy{}, false},
		{"baseEjectionTime=25h", OutlierPolicy{}, false},
		{"baseEjectionTime=30s,maxEjectionTime=10s", OutlierPolicy{}, false},
		{"interval=10s", OutlierPolicy{}, false},
		{"consecutive5xxErrors", OutlierPolicy{}, false},
		{"=3", OutlierPolicy{}, false},
		{"consecutive5xxErrors=", OutlierPolicy{}, false},
	}
	for _, tc := range tests {
		got, err := ParseOutlierPolicy(tc.in)
		if (err == nil) != tc.ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseOutlierPolicy(%q) = %+v, %v; want %+v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// FuzzParseOutlierPolicy: an accepted value formats to a canonical string that parses to the
// same policy. (That the policy survives the store's encoding is store's FuzzOutlierRecord.)
func FuzzParseOutlierPolicy(f *testing.F) {
	for _, s := range []string{"", "consecutive5xxErrors=3", "baseEjectionTime=10s,maxEjectionTime=2m", "maxEjectionPercent=50, consecutiveGatewayErrors=0", "a=b=c", ",,="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseOutlierPolicy(s)
		if err != nil {
			return
		}
		again, err := ParseOutlierPolicy(p.String())
		if err != nil || !reflect.DeepEqual(again, p) {
			t.Fatalf("%q → %q → %+v, %v", s, p.String(), again, err)
		}
	})
}
