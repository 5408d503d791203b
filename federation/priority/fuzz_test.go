package priority

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
)

// fuzzDistributions are the distributions FuzzAssign chooses from.
var fuzzDistributions = []model.Distribution{
	{Mode: model.ModeAny},
	{Mode: model.ModePreferNetwork},
	{Mode: model.ModePreferCluster},
	{Mode: model.ModePreferRegion},
	{Mode: model.ModePreferClose},
	{Mode: model.ModePreferSameNode},
	{Mode: model.ModeFailoverPriority, FailoverPriority: []string{wellknown.RegionLabel, "rack", wellknown.ZoneLabel}},
	{Mode: model.ModeFailoverPriority, FailoverPriority: []string{"rack=b", wellknown.NetworkLabel, wellknown.HostnameLabel, wellknown.ClusterLabel, wellknown.SubzoneLabel}},
	{Mode: model.ModeFailoverPriority, FailoverPriority: []string{wellknown.NetworkLabel, "rack", wellknown.HostnameLabel}},
}

// fuzzValue maps a byte to one of a few values, including unset.
func fuzzValue(b byte) string { return [...]string{"", "a", "b"}[b%3] }

// fuzzEndpoints decodes 7 bytes per endpoint: six locality values and a rack label.
func fuzzEndpoints(data []byte) []model.Endpoint {
	var eps []model.Endpoint
	for ; len(data) >= 7; data = data[7:] {
		e := readyAt(loc(fuzzValue(data[0]), fuzzValue(data[1]), fuzzValue(data[2]),
			fuzzValue(data[3]), fuzzValue(data[4]), fuzzValue(data[5])))
		if v := fuzzValue(data[6]); v != "" {
			e.Labels = map[string]string{"rack": v}
		}
		eps = append(eps, e)
	}
	return eps
}

// FuzzAssign checks the tier invariants: contiguous from 0, every endpoint in exactly one tier,
// at most MaxTiers, input never mutated, and each endpoint's tier independent of input order.
func FuzzAssign(f *testing.F) {
	f.Add([]byte("\x00\x01\x02\x00\x01\x02\x01\x01\x01\x01\x01\x01\x01\x01\x02\x02\x02\x02\x02\x02\x00"), uint8(4), uint64(1))
	f.Add([]byte("aaaaaaabbbbbbbcccccccabcabca"), uint8(6), uint64(7))
	f.Fuzz(func(t *testing.T, data []byte, which uint8, seed uint64) {
		if len(data) < 2 {
			return
		}
		d := fuzzDistributions[int(which)%len(fuzzDistributions)]
		client := Client{Locality: loc("a", fuzzValue(data[0]), "a", fuzzValue(data[1]), "a", "b"),
			Labels: map[string]string{"rack": "a"}}
		eps := fuzzEndpoints(data[2:])
		orig := cloneEndpoints(eps)
		got, err := Assign(eps, client, d)
		if err != nil {
			t.Fatalf("Assign: %v", err)
		}
		checkTiers(t, got, len(eps))
		if limit, _ := MaxTiers(d); got.Len() > limit {
			t.Fatalf("%d tiers, more than MaxTiers %d", got.Len(), limit)
		}
		if !endpointsEqual(eps, orig) {
			t.Fatal("Assign mutated its input")
		}
		perm := rand.New(rand.NewPCG(seed, 0)).Perm(len(eps))
		shuffled := make([]model.Endpoint, len(eps))
		for k, i := range perm {
			shuffled[k] = eps[i]
		}
		again, err := Assign(shuffled, client, d)
		if err != nil {
			t.Fatalf("Assign shuffled: %v", err)
		}
		for k, i := range perm {
			if again.Of[k] != got.Of[i] {
				t.Fatalf("endpoint %d: tier %d in input order, %d after permutation", i, got.Of[i], again.Of[k])
			}
		}
	})
}

// FuzzDistribute checks that load sums to 100 (but in Envoy's corner, see Distribute), that no
// percentage or availability
// exceeds 100, that panic is off when NTA is 100, that a tier gets healthy (degraded) load outside
// total panic only with healthy (degraded) availability, and that Distribute agrees with the
// transcription of Envoy's code in envoy_test.go.
func FuzzDistribute(f *testing.F) {
	f.Add([]byte{100, 25, 0, 100, 100, 0}, uint16(0), uint8(0), false)
	f.Add([]byte{4, 1, 2, 4, 1, 0, 5, 1, 1}, uint16(140), uint8(50), true)
	f.Add([]byte{0, 0, 0, 3, 0, 3}, uint16(30), uint8(1), false)
	f.Fuzz(func(t *testing.T, data []byte, factor uint16, threshold uint8, disable bool) {
		var health []TierHealth
		for ; len(data) >= 3; data = data[3:] {
			total := int(data[0])
			healthy := int(data[1]) % (total + 1)
			health = append(health, TierHealth{Total: total, Healthy: healthy, Degraded: int(data[2]) % (total - healthy + 1)})
		}
		opts := LoadOptions{OverprovisioningFactor: uint32(factor), PanicThreshold: uint32(threshold), DisablePanic: disable}
		l := Distribute(health, opts)
		checkLoad(t, l, len(health))
		if len(health) > 0 {
			if err := compareWithEnvoy(health, opts); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// checkLoad verifies the invariants of a Load.
func checkLoad(t *testing.T, l Load, n int) {
	t.Helper()
	sum := uint32(0)
	for i := range l.Percent {
		sum += l.Share(i)
		if l.Share(i) > 100 || l.Health[i] > 100 || l.DegradedHealth[i] > 100 {
			t.Fatalf("tier %d above 100: %+v", i, l)
		}
		outside := !l.TotalPanic && l.NormalizedTotal > 0
		if outside && ((l.Health[i] == 0 && l.Percent[i] != 0) || (l.DegradedHealth[i] == 0 && l.DegradedPercent[i] != 0)) {
			t.Fatalf("tier %d got load without availability: %+v", i, l)
		}
		if l.NormalizedTotal == 100 && l.Panic[i] {
			t.Fatalf("tier %d in panic with NTA 100", i)
		}
		if l.TotalPanic && l.DegradedPercent[i] != 0 {
			t.Fatalf("degraded load in total panic: %+v", l)
		}
	}
	// Envoy's corner: availability floored to 0 everywhere and not every tier below the threshold.
	corner := sum == 0 && l.NormalizedTotal == 0 && !l.TotalPanic
	if n > 0 && sum != 100 && !corner {
		t.Fatalf("load sums to %d: %+v", sum, l)
	}
	if n == 0 && sum != 0 {
		t.Fatalf("load without tiers: %+v", l)
	}
}

// FuzzParseFailoverPriority checks that a parsed list is non-empty, valid, free of repeated keys
// and survives a format/parse round trip, and that failures wrap the sentinel.
func FuzzParseFailoverPriority(f *testing.F) {
	for _, s := range []string{"topology.kubernetes.io/region,rack", "a=b, c", "", ",", "a,a", "x/y/z", "k=v=w"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		keys, err := ParseFailoverPriority(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidFailoverPriority) {
				t.Fatalf("error %v does not wrap ErrInvalidFailoverPriority", err)
			}
			return
		}
		if len(keys) == 0 {
			t.Fatal("empty list parsed")
		}
		seen := map[string]bool{}
		for _, k := range keys {
			key, err := checkFailoverEntry(k)
			if err != nil || seen[key] {
				t.Fatalf("entry %q invalid or repeated: %v", k, err)
			}
			seen[key] = true
		}
		again, err := ParseFailoverPriority(FormatFailoverPriority(keys))
		if err != nil || !slices.Equal(again, keys) {
			t.Fatalf("round trip of %q = %q, %v", keys, again, err)
		}
	})
}

// FuzzResolve checks that any input yields a usable distribution, that Explicit and Origin agree,
// that the default is used exactly when nothing valid decided, and that Resolve is deterministic.
func FuzzResolve(f *testing.F) {
	f.Add("PreferClose", "", "", "", "", "", "")
	f.Add("", "Any", "PreferSameNode", "rack", "PreferRegion", "", "")
	f.Add("bogus", "", "", "", "", "", "a,,b")
	f.Fuzz(func(t *testing.T, spec, std, sti, sfp, ntd, nti, nfp string) {
		src := Sources{
			Spec:      spec,
			Service:   Annotations{TrafficDistribution: std, IstioTrafficDistribution: sti, FailoverPriority: sfp},
			Namespace: Annotations{TrafficDistribution: ntd, IstioTrafficDistribution: nti, FailoverPriority: nfp},
		}
		res := Resolve(src, model.DefaultBackendMode)
		if _, err := Assign(tierEndpoints(), testClient, res.Distribution); err != nil {
			t.Fatalf("resolved distribution %+v is unusable: %v", res.Distribution, err)
		}
		if res.Explicit != (res.Origin != OriginDefault) {
			t.Fatalf("Explicit %v but Origin %q", res.Explicit, res.Origin)
		}
		if !res.Explicit && !res.Distribution.Equal(model.Distribution{Mode: model.DefaultBackendMode}) {
			t.Fatalf("not explicit but %+v", res.Distribution)
		}
		for _, p := range res.Problems {
			if p.Origin == "" || p.Key == "" || p.Value == "" || p.Reason == "" || p.Err == nil {
				t.Fatalf("incomplete problem %+v", p)
			}
		}
		again := Resolve(src, model.DefaultBackendMode)
		if !again.Distribution.Equal(res.Distribution) || len(again.Problems) != len(res.Problems) {
			t.Fatal("Resolve is not deterministic")
		}
	})
}

// FuzzParseMode checks that an accepted value maps to a mode Assign can rank by, that the
// mode's own name parses to it, and that the annotation parser ignores case as Istio does.
func FuzzParseMode(f *testing.F) {
	f.Add("PreferSameZone")
	f.Add("Any")
	f.Add("preferNETWORK")
	f.Fuzz(func(t *testing.T, s string) {
		for _, parse := range []func(string) (model.Mode, error){ParseMode, ParseSpecMode} {
			mode, err := parse(s)
			if err != nil {
				if !errors.Is(err, ErrUnknownMode) || mode != "" {
					t.Fatalf("parse(%q) = %q, %v", s, mode, err)
				}
				continue
			}
			if _, err := MaxTiers(model.Distribution{Mode: mode}); err != nil || mode == "PreferSameZone" {
				t.Fatalf("parse(%q) = unusable mode %q", s, mode)
			}
			if again, err := parse(string(mode)); err != nil || again != mode {
				t.Fatalf("parse(%q) = %q, but parse(%q) = %q, %v", s, mode, mode, again, err)
			}
		}
		mode, err := ParseMode(s)
		lower, lerr := ParseMode(strings.ToLower(s))
		if mode != lower || (err == nil) != (lerr == nil) {
			t.Fatalf("ParseMode(%q) = %q, %v but lower-cased %q, %v", s, mode, err, lower, lerr)
		}
	})
}

// FuzzAliasTable checks that the alias table is exact: summing each column's units over the
// candidates they pick gives every candidate exactly weight × n units.
func FuzzAliasTable(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4})
	f.Add([]byte{0, 0, 255, 1, 7})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		weights := make([]uint32, len(data))
		total := uint64(0)
		for k, b := range data {
			weights[k] = uint32(b)*uint32(b)*4099 + 1
			total += uint64(weights[k])
		}
		slots := newAliasTable(weights, total)
		mass := make([]uint64, len(weights))
		for k, s := range slots {
			if s.prob > total || s.weight != weights[k] {
				t.Fatalf("column %d: prob %d > total %d or weight %d != %d", k, s.prob, total, s.weight, weights[k])
			}
			mass[k] += s.prob
			mass[s.alias] += total - s.prob
		}
		n := uint64(len(weights))
		for k, w := range weights {
			if mass[k] != uint64(w)*n {
				t.Fatalf("candidate %d gets %d units, want %d", k, mass[k], uint64(w)*n)
			}
		}
	})
}
