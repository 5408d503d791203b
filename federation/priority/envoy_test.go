package priority

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// This file holds a line-by-line transcription of Envoy's priority-load code, written apart
// from load.go and kept close to Envoy's shape (names, types, state that survives between
// updates), so that Distribute can be compared with it over every small configuration. Source:
// Envoy's source/extensions/load_balancing_policies/common/load_balancer_impl.{h,cc} (formerly
// source/common/upstream/load_balancer_impl.cc): LoadBalancerBase's constructor,
// recalculatePerPriorityState, recalculatePerPriorityPanic, recalculateLoadInTotalPanic,
// isHostSetInPanic, distributeLoad and calculateNormalizedTotalAvailability, with
// weighted_priority_health off and no excluded hosts.

// envoyHostSet is what Envoy's HostSet reports: host counts and the overprovisioning factor.
type envoyHostSet struct {
	hosts, healthy, degraded uint64
	overprovisioningFactor   uint32
}

// envoyLB is LoadBalancerBase's state.
type envoyLB struct {
	hostSetsPerPriority []envoyHostSet
	// runtimePanicThreshold is what runtime_.snapshot().getInteger("upstream.healthy_panic_threshold", …) returns.
	runtimePanicThreshold uint64
	healthyPriorityLoad   []uint32
	degradedPriorityLoad  []uint32
	perPriorityHealth     []uint32
	perPriorityDegraded   []uint32
	perPriorityPanic      []bool
}

// newEnvoyLB is the constructor: recalculatePerPriorityState for every host set in order, then
// recalculatePerPriorityPanic.
func newEnvoyLB(sets []envoyHostSet, threshold uint64) *envoyLB {
	lb := &envoyLB{hostSetsPerPriority: slices.Clone(sets), runtimePanicThreshold: threshold}
	for p := range lb.hostSetsPerPriority {
		lb.recalculatePerPriorityState(p)
	}
	lb.recalculatePerPriorityPanic()
	return lb
}

// updateHostSet is a host set update followed by the priority update callback, as the unit
// tests' updateHostSet and runCallbacks do; a new priority grows the set.
func (lb *envoyLB) updateHostSet(priority int, hs envoyHostSet) {
	for len(lb.hostSetsPerPriority) <= priority {
		lb.hostSetsPerPriority = append(lb.hostSetsPerPriority, envoyHostSet{overprovisioningFactor: 140})
	}
	lb.hostSetsPerPriority[priority] = hs
	lb.recalculatePerPriorityState(priority)
	lb.recalculatePerPriorityPanic()
}

// resize is std::vector::resize: keeps the values it has, zero-fills new ones.
func resize[T any](v []T, n int) []T {
	for len(v) < n {
		var zero T
		v = append(v, zero)
	}
	return v[:n]
}

func (lb *envoyLB) recalculatePerPriorityState(priority int) {
	n := len(lb.hostSetsPerPriority)
	lb.healthyPriorityLoad = resize(lb.healthyPriorityLoad, n)
	lb.degradedPriorityLoad = resize(lb.degradedPriorityLoad, n)
	lb.perPriorityHealth = resize(lb.perPriorityHealth, n)
	lb.perPriorityDegraded = resize(lb.perPriorityDegraded, n)

	hostSet := lb.hostSetsPerPriority[priority]
	lb.perPriorityHealth[priority] = 0
	lb.perPriorityDegraded[priority] = 0
	hostCount := hostSet.hosts
	if hostCount > 0 {
		healthyWeight, degradedWeight, totalWeight := hostSet.healthy, hostSet.degraded, hostCount
		// std::min<uint32_t>(100, uint64 expression): the expression is converted to uint32 first.
		lb.perPriorityHealth[priority] = min(100, uint32(uint64(hostSet.overprovisioningFactor)*healthyWeight/totalWeight))
		lb.perPriorityDegraded[priority] = min(100, uint32(uint64(hostSet.overprovisioningFactor)*degradedWeight/totalWeight))
	}

	normalizedTotalAvailability := lb.calculateNormalizedTotalAvailability()
	if normalizedTotalAvailability == 0 {
		return
	}
	firstHealthy, remainingForDegraded := envoyDistributeLoad(lb.healthyPriorityLoad, lb.perPriorityHealth, 100, normalizedTotalAvailability)
	firstDegraded, remainingLoad := envoyDistributeLoad(lb.degradedPriorityLoad, lb.perPriorityDegraded, remainingForDegraded, normalizedTotalAvailability)
	if remainingLoad != 0 {
		if firstHealthy != -1 {
			lb.healthyPriorityLoad[firstHealthy] += uint32(remainingLoad)
		} else {
			lb.degradedPriorityLoad[firstDegraded] += uint32(remainingLoad)
		}
	}
}

// envoyDistributeLoad is the free function distributeLoad.
func envoyDistributeLoad(perPriorityLoad, perPriorityAvailability []uint32, totalLoad uint64, normalizedTotalAvailability uint64) (int32, uint64) {
	firstAvailablePriority := int32(-1)
	for i := range perPriorityAvailability {
		if firstAvailablePriority < 0 && perPriorityAvailability[i] > 0 {
			firstAvailablePriority = int32(i)
		}
		perPriorityLoad[i] = min(uint32(totalLoad), uint32(uint64(perPriorityAvailability[i]*100)/normalizedTotalAvailability))
		totalLoad -= uint64(perPriorityLoad[i])
	}
	return firstAvailablePriority, totalLoad
}

func (lb *envoyLB) calculateNormalizedTotalAvailability() uint64 {
	health, degraded := 0, 0
	for _, h := range lb.perPriorityHealth {
		health += int(h)
	}
	for _, d := range lb.perPriorityDegraded {
		degraded += int(d)
	}
	return uint64(min(uint32(health+degraded), 100))
}

func (lb *envoyLB) recalculatePerPriorityPanic() {
	lb.perPriorityPanic = resize(lb.perPriorityPanic, len(lb.hostSetsPerPriority))
	normalizedTotalAvailability := lb.calculateNormalizedTotalAvailability()
	panicThreshold := min(100, lb.runtimePanicThreshold)
	if panicThreshold == 0 && normalizedTotalAvailability == 0 {
		lb.healthyPriorityLoad[0] = 100
		return
	}
	totalPanic := true
	for i := range lb.perPriorityHealth {
		lb.perPriorityPanic[i] = normalizedTotalAvailability != 100 && lb.isHostSetInPanic(lb.hostSetsPerPriority[i])
		totalPanic = totalPanic && lb.perPriorityPanic[i]
	}
	if totalPanic {
		lb.recalculateLoadInTotalPanic()
	}
}

func (lb *envoyLB) isHostSetInPanic(hostSet envoyHostSet) bool {
	globalPanicThreshold := min(100, lb.runtimePanicThreshold)
	hostCount := hostSet.hosts
	healthyPercent, degradedPercent := 0.0, 0.0
	if hostCount != 0 {
		healthyPercent = 100.0 * float64(hostSet.healthy) / float64(hostCount)
		degradedPercent = 100.0 * float64(hostSet.degraded) / float64(hostCount)
	}
	return healthyPercent+degradedPercent < float64(globalPanicThreshold)
}

func (lb *envoyLB) recalculateLoadInTotalPanic() {
	totalHostsCount := uint32(0) // accumulate of size_t into a uint32_t
	for _, hs := range lb.hostSetsPerPriority {
		totalHostsCount = uint32(uint64(totalHostsCount) + hs.hosts)
	}
	if totalHostsCount == 0 {
		lb.healthyPriorityLoad[0] = 100
		return
	}
	totalLoad := uint32(100)
	firstNoempty := -1
	for i := range lb.perPriorityPanic {
		hostsNum := lb.hostSetsPerPriority[i].hosts
		if firstNoempty == -1 && hostsNum != 0 {
			firstNoempty = i
		}
		priorityLoad := uint32(100 * hostsNum / uint64(totalHostsCount))
		lb.healthyPriorityLoad[i] = priorityLoad
		lb.degradedPriorityLoad[i] = 0
		totalLoad -= priorityLoad
	}
	lb.healthyPriorityLoad[firstNoempty] += totalLoad
}

// envoyThreshold is the runtime panic threshold LoadOptions stand for.
func envoyThreshold(o LoadOptions) uint64 {
	switch {
	case o.DisablePanic:
		return 0
	case o.PanicThreshold == 0:
		return 50
	}
	return uint64(o.PanicThreshold)
}

// envoySets turns TierHealth into host sets with o's overprovisioning factor.
func envoySets(health []TierHealth, o LoadOptions) []envoyHostSet {
	factor := o.OverprovisioningFactor
	if factor == 0 {
		factor = 140
	}
	sets := make([]envoyHostSet, len(health))
	for i, h := range health {
		sets[i] = envoyHostSet{hosts: uint64(h.Total), healthy: uint64(h.Healthy), degraded: uint64(h.Degraded), overprovisioningFactor: factor}
	}
	return sets
}

// TestEnvoyTranscriptionReplaysEnvoyTests replays each of Envoy's unit tests as Envoy runs it
// (one updateHostSet per host set, in order, on one load balancer) through the transcription:
// it must give every value Envoy's tests assert, or it is not a faithful transcription.
func TestEnvoyTranscriptionReplaysEnvoyTests(t *testing.T) {
	var lb *envoyLB
	test := ""
	for _, c := range envoyCases {
		name, _, _ := strings.Cut(c.name, "/")
		if name != test {
			test, lb = name, &envoyLB{}
		}
		lb.runtimePanicThreshold = envoyThreshold(c.opts)
		for p, hs := range envoySets(c.health, c.opts) {
			lb.updateHostSet(p, hs)
		}
		if !slices.Equal(lb.healthyPriorityLoad, c.want) ||
			(c.wantDegraded != nil && !slices.Equal(lb.degradedPriorityLoad, c.wantDegraded)) ||
			(c.wantPanic != nil && !slices.Equal(lb.perPriorityPanic, c.wantPanic)) {
			t.Errorf("%s: load %v degraded %v panic %v; Envoy asserts %v %v %v", c.name,
				lb.healthyPriorityLoad, lb.degradedPriorityLoad, lb.perPriorityPanic, c.want, c.wantDegraded, c.wantPanic)
		}
	}
}

// compareWithEnvoy checks every output of Distribute against a freshly built transcription.
func compareWithEnvoy(health []TierHealth, o LoadOptions) error {
	got := Distribute(health, o)
	lb := newEnvoyLB(envoySets(health, o), envoyThreshold(o))
	totalPanic := !slices.Contains(lb.perPriorityPanic, false)
	if !slices.Equal(got.Percent, lb.healthyPriorityLoad) || !slices.Equal(got.DegradedPercent, lb.degradedPriorityLoad) ||
		!slices.Equal(got.Health, lb.perPriorityHealth) || !slices.Equal(got.DegradedHealth, lb.perPriorityDegraded) ||
		!slices.Equal(got.Panic, lb.perPriorityPanic) || got.TotalPanic != totalPanic ||
		uint64(got.NormalizedTotal) != lb.calculateNormalizedTotalAvailability() {
		return fmt.Errorf("%+v %+v:\n got  %+v\n envoy load %v degraded %v health %v/%v panic %v",
			health, o, got, lb.healthyPriorityLoad, lb.degradedPriorityLoad, lb.perPriorityHealth, lb.perPriorityDegraded, lb.perPriorityPanic)
	}
	return nil
}

// tierStates lists every (total, healthy, degraded) with total ≤ maxHosts.
func tierStates(maxHosts int) []TierHealth {
	var out []TierHealth
	for total := 0; total <= maxHosts; total++ {
		for healthy := 0; healthy <= total; healthy++ {
			for degraded := 0; healthy+degraded <= total; degraded++ {
				out = append(out, TierHealth{Total: total, Healthy: healthy, Degraded: degraded})
			}
		}
	}
	return out
}

// forEachConfig calls f with every sequence of 1…maxTiers tier states.
func forEachConfig(states []TierHealth, maxTiers int, f func([]TierHealth) error) error {
	buf := make([]TierHealth, maxTiers)
	var rec func(depth int) error
	rec = func(depth int) error {
		if depth > 0 {
			if err := f(buf[:depth]); err != nil {
				return err
			}
		}
		if depth == maxTiers {
			return nil
		}
		for _, s := range states {
			buf[depth] = s
			if err := rec(depth + 1); err != nil {
				return err
			}
		}
		return nil
	}
	return rec(0)
}

// TestDistributeMatchesEnvoy compares Distribute with the transcription over every
// configuration of up to 3 tiers of up to 5 endpoints (every healthy/degraded split) under
// several factors and thresholds, and of 4 tiers of up to 4 endpoints under the defaults and
// with panic off. -short keeps 3 tiers of up to 4 endpoints.
func TestDistributeMatchesEnvoy(t *testing.T) {
	options := []LoadOptions{
		{}, {DisablePanic: true}, {PanicThreshold: 1}, {PanicThreshold: 100}, {PanicThreshold: 67},
		{OverprovisioningFactor: 1}, {OverprovisioningFactor: 100}, {OverprovisioningFactor: 333, PanicThreshold: 80},
		{OverprovisioningFactor: 100, DisablePanic: true},
	}
	small, wide := 5, 4
	if testing.Short() {
		small, wide = 4, 0
	}
	count := 0
	check := func(opts []LoadOptions) func([]TierHealth) error {
		return func(h []TierHealth) error {
			for _, o := range opts {
				count++
				if err := compareWithEnvoy(h, o); err != nil {
					return err
				}
			}
			return nil
		}
	}
	if err := forEachConfig(tierStates(small), 3, check(options)); err != nil {
		t.Fatal(err)
	}
	if wide > 0 {
		if err := forEachConfig(tierStates(wide), 4, check(options[:2])); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d configurations agree with Envoy", count)
}
