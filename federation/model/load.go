package model

import (
	"fmt"
	"strings"
)

// LoadPolicy is one service's tuning of the load split across priority tiers, from the
// annotations meshfed.io/overprovisioning-factor and meshfed.io/panic-threshold (parsed and
// validated by federation/priority). A nil field keeps the waypoint's default. A ClusterExport
// carries its cluster's policy, a GlobalService the policy of its oldest export that sets one.
type LoadPolicy struct {
	// OverprovisioningFactor is Envoy's overprovisioning factor in percent (140 means 1.4); at
	// least 1.
	OverprovisioningFactor *uint32 `json:"overprovisioningFactor,omitempty"`
	// PanicThreshold is Envoy's healthy panic threshold in percent, 0–100; 0 disables panic.
	PanicThreshold *uint32 `json:"panicThreshold,omitempty"`
}

// IsZero reports whether nothing is set.
func (p LoadPolicy) IsZero() bool { return p.OverprovisioningFactor == nil && p.PanicThreshold == nil }

// Clone returns a deep copy (nil for nil).
func (p *LoadPolicy) Clone() *LoadPolicy {
	if p == nil {
		return nil
	}
	return &LoadPolicy{OverprovisioningFactor: clonePtr(p.OverprovisioningFactor), PanicThreshold: clonePtr(p.PanicThreshold)}
}

// String formats the set fields in the annotations' syntax, for example
// "overprovisioning-factor=150,panic-threshold=0"; "" when nothing is set.
func (p LoadPolicy) String() string {
	var parts []string
	if p.OverprovisioningFactor != nil {
		parts = append(parts, fmt.Sprintf("overprovisioning-factor=%d", *p.OverprovisioningFactor))
	}
	if p.PanicThreshold != nil {
		parts = append(parts, fmt.Sprintf("panic-threshold=%d", *p.PanicThreshold))
	}
	return strings.Join(parts, ",")
}
