package balance

import (
	"testing"
	"time"

	"github.com/meshfed/meshfed/federation/model"
)

func TestWithPolicy(t *testing.T) {
	u := func(n uint32) *uint32 { return &n }
	d := func(v time.Duration) *time.Duration { return &v }
	base := OutlierOptions{}.WithDefaults()
	tests := []struct {
		name   string
		policy *model.OutlierPolicy
		want   OutlierOptions
	}{
		{"nil keeps the defaults", nil, base},
		{"thresholds", &model.OutlierPolicy{Consecutive5xxErrors: u(2), ConsecutiveGatewayErrors: u(0), ConsecutiveLocalOriginFailures: u(9)},
			OutlierOptions{ConsecutiveFailures: 9, Consecutive5xx: 2, ConsecutiveGatewayErrors: -1,
				BaseEjectionTime: base.BaseEjectionTime, MaxEjectionTime: base.MaxEjectionTime, MaxEjectionPercent: base.MaxEjectionPercent}},
		{"times and percent; the cap is never below the base", &model.OutlierPolicy{BaseEjectionTime: d(10 * time.Minute), MaxEjectionPercent: u(100)},
			OutlierOptions{ConsecutiveFailures: base.ConsecutiveFailures, Consecutive5xx: base.Consecutive5xx, ConsecutiveGatewayErrors: base.ConsecutiveGatewayErrors,
				BaseEjectionTime: 10 * time.Minute, MaxEjectionTime: 10 * time.Minute, MaxEjectionPercent: 100}},
	}
	for _, tc := range tests {
		if got := base.WithPolicy(tc.policy); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
