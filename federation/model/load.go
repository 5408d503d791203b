package model

// LoadPolicy is one service's tuning of the load split across priority tiers, from the
// annotations meshfed.io/overprovisioning-factor and meshfed.io/panic-threshold (parsed and
// validated by federation/priority). A nil field keeps the waypoint's default. No export or
// global service carries it yet.
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
