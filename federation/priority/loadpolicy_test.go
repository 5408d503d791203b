package priority

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
)

func TestParseOverprovisioningFactor(t *testing.T) {
	tests := []struct {
		in   string
		want uint32
		ok   bool
	}{
		{"140", 140, true},
		{"1", 1, true},
		{" 200 ", 200, true},
		{"4294967295", 4294967295, true},
		{"0140", 140, true},
		{"0", 0, false},
		{"4294967296", 0, false},
		{"1.4", 0, false},
		{"-1", 0, false},
		{"+140", 0, false},
		{"140%", 0, false},
		{"", 0, false},
		{"0x8c", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseOverprovisioningFactor(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseOverprovisioningFactor(%q) = %d, %v; want %d ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidLoadPolicy) {
			t.Errorf("ParseOverprovisioningFactor(%q) error %v does not wrap ErrInvalidLoadPolicy", tt.in, err)
		}
	}
}

func TestParsePanicThreshold(t *testing.T) {
	tests := []struct {
		in   string
		want uint32
		ok   bool
	}{
		{"50", 50, true},
		{"0", 0, true},
		{"100", 100, true},
		{"75%", 75, true},
		{" 30% ", 30, true},
		{"101", 0, false},
		{"50.5", 0, false},
		{"-1", 0, false},
		{"%", 0, false},
		{"50%%", 0, false},
		{"50 %", 0, false},
		{"", 0, false},
		{"half", 0, false},
	}
	for _, tt := range tests {
		got, err := ParsePanicThreshold(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParsePanicThreshold(%q) = %d, %v; want %d ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidLoadPolicy) {
			t.Errorf("ParsePanicThreshold(%q) error %v does not wrap ErrInvalidLoadPolicy", tt.in, err)
		}
	}
}

func TestParseRemoteEndpoints(t *testing.T) {
	tests := []struct {
		in   string
		want model.RemoteEndpoints
		ok   bool
	}{
		{"each", model.RemoteEndpointsEach, true},
		{"aggregated", model.RemoteEndpointsAggregated, true},
		{" aggregated\t", model.RemoteEndpointsAggregated, true},
		{"\neach ", model.RemoteEndpointsEach, true},
		{"Aggregated", "", false},
		{"EACH", "", false},
		{"aggregate", "", false},
		{"aggregated,each", "", false},
		{"ag gregated", "", false},
		{"true", "", false},
		{"", "", false},
		{"  ", "", false},
	}
	for _, tt := range tests {
		got, err := ParseRemoteEndpoints(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseRemoteEndpoints(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err == nil {
			continue
		}
		if !errors.Is(err, ErrInvalidLoadPolicy) {
			t.Errorf("ParseRemoteEndpoints(%q) error %v does not wrap ErrInvalidLoadPolicy", tt.in, err)
		}
		if msg := err.Error(); !strings.Contains(msg, `"each"`) || !strings.Contains(msg, `"aggregated"`) {
			t.Errorf("ParseRemoteEndpoints(%q) error %q does not name the accepted values", tt.in, msg)
		}
	}
}

func TestResolveLoad(t *testing.T) {
	u := func(v uint32) *uint32 { return &v }
	tests := []struct {
		name     string
		src      Sources
		want     model.LoadPolicy
		problems []wantProblem
	}{
		{"nothing set", Sources{}, model.LoadPolicy{}, nil},
		{"service sets both", Sources{Service: Annotations{OverprovisioningFactor: "200", PanicThreshold: "0"}},
			model.LoadPolicy{OverprovisioningFactor: u(200), PanicThreshold: u(0)}, nil},
		{"each key falls back to the namespace on its own",
			Sources{Service: Annotations{PanicThreshold: "30"}, Namespace: Annotations{OverprovisioningFactor: "100", PanicThreshold: "90"}},
			model.LoadPolicy{OverprovisioningFactor: u(100), PanicThreshold: u(30)}, nil},
		{"an invalid service value is not replaced by the namespace's",
			Sources{Service: Annotations{OverprovisioningFactor: "1.4"}, Namespace: Annotations{OverprovisioningFactor: "150", PanicThreshold: "20%"}},
			model.LoadPolicy{PanicThreshold: u(20)},
			[]wantProblem{{OriginService, wellknown.OverprovisioningFactorKey, ReasonInvalidLoadPolicy}}},
		{"both invalid on the namespace",
			Sources{Namespace: Annotations{OverprovisioningFactor: "0", PanicThreshold: "150"}},
			model.LoadPolicy{},
			[]wantProblem{
				{OriginNamespace, wellknown.OverprovisioningFactorKey, ReasonInvalidLoadPolicy},
				{OriginNamespace, wellknown.PanicThresholdKey, ReasonInvalidLoadPolicy},
			}},
		{"remote endpoints from the service",
			Sources{Service: Annotations{RemoteEndpoints: "aggregated"}, Namespace: Annotations{RemoteEndpoints: "each"}},
			model.LoadPolicy{RemoteEndpoints: model.RemoteEndpointsAggregated}, nil},
		{"remote endpoints from the namespace, beside the service's factor",
			Sources{Service: Annotations{OverprovisioningFactor: "150"}, Namespace: Annotations{RemoteEndpoints: " aggregated "}},
			model.LoadPolicy{OverprovisioningFactor: u(150), RemoteEndpoints: model.RemoteEndpointsAggregated}, nil},
		{"an explicit each is kept, not dropped as the default",
			Sources{Namespace: Annotations{RemoteEndpoints: "each"}},
			model.LoadPolicy{RemoteEndpoints: model.RemoteEndpointsEach}, nil},
		{"an invalid service value is not replaced by the namespace's remote endpoints",
			Sources{Service: Annotations{RemoteEndpoints: "Aggregated", PanicThreshold: "10"}, Namespace: Annotations{RemoteEndpoints: "aggregated"}},
			model.LoadPolicy{PanicThreshold: u(10)},
			[]wantProblem{{OriginService, wellknown.RemoteEndpointsKey, ReasonInvalidLoadPolicy}}},
		{"all three invalid, in key order",
			Sources{Service: Annotations{OverprovisioningFactor: "x", PanicThreshold: "y", RemoteEndpoints: "z"}},
			model.LoadPolicy{},
			[]wantProblem{
				{OriginService, wellknown.OverprovisioningFactorKey, ReasonInvalidLoadPolicy},
				{OriginService, wellknown.PanicThresholdKey, ReasonInvalidLoadPolicy},
				{OriginService, wellknown.RemoteEndpointsKey, ReasonInvalidLoadPolicy},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := ResolveLoad(tt.src)
			if !equalPtr(got.OverprovisioningFactor, tt.want.OverprovisioningFactor) || !equalPtr(got.PanicThreshold, tt.want.PanicThreshold) ||
				got.RemoteEndpoints != tt.want.RemoteEndpoints {
				t.Errorf("ResolveLoad = %s, want %s", policyString(got), policyString(tt.want))
			}
			checkProblems(t, problems, tt.problems)
		})
	}
}

// equalPtr compares two optional values.
func equalPtr(a, b *uint32) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// policyString shows a policy for test messages.
func policyString(p model.LoadPolicy) string {
	show := func(v *uint32) string {
		if v == nil {
			return "unset"
		}
		return strconv.FormatUint(uint64(*v), 10)
	}
	return "factor " + show(p.OverprovisioningFactor) + ", threshold " + show(p.PanicThreshold) + ", remote endpoints " + strconv.Quote(string(p.RemoteEndpoints))
}

// FuzzParseLoadPolicy: an accepted overprovisioning factor or panic threshold is in range and
// its canonical form parses to the same value; a rejected one wraps ErrInvalidLoadPolicy.
// ResolveLoad keeps exactly the values that parse and reports the others.
func FuzzParseLoadPolicy(f *testing.F) {
	for _, s := range []string{"140", "0", "100%", " 7 ", "4294967296", "1.4", "%", "-0"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, factor, threshold string) {
		fv, ferr := ParseOverprovisioningFactor(factor)
		if ferr == nil {
			if fv == 0 {
				t.Fatalf("factor %q parsed to 0", factor)
			}
			if again, err := ParseOverprovisioningFactor(strconv.FormatUint(uint64(fv), 10)); err != nil || again != fv {
				t.Fatalf("factor %q → %d → %d, %v", factor, fv, again, err)
			}
		} else if !errors.Is(ferr, ErrInvalidLoadPolicy) {
			t.Fatalf("factor %q: %v", factor, ferr)
		}
		tv, terr := ParsePanicThreshold(threshold)
		if terr == nil {
			if tv > 100 {
				t.Fatalf("threshold %q parsed to %d", threshold, tv)
			}
			if again, err := ParsePanicThreshold(strconv.FormatUint(uint64(tv), 10) + "%"); err != nil || again != tv {
				t.Fatalf("threshold %q → %d → %d, %v", threshold, tv, again, err)
			}
		} else if !errors.Is(terr, ErrInvalidLoadPolicy) {
			t.Fatalf("threshold %q: %v", threshold, terr)
		}
		p, problems := ResolveLoad(Sources{Service: Annotations{OverprovisioningFactor: factor}, Namespace: Annotations{PanicThreshold: threshold}})
		wantProblems := 0
		for _, c := range []struct {
			raw  string
			err  error
			want uint32
			got  *uint32
		}{{factor, ferr, fv, p.OverprovisioningFactor}, {threshold, terr, tv, p.PanicThreshold}} {
			switch {
			case c.raw == "" || c.err != nil:
				if c.got != nil {
					t.Fatalf("%q kept as %d", c.raw, *c.got)
				}
				if c.raw != "" {
					wantProblems++
				}
			case c.got == nil || *c.got != c.want:
				t.Fatalf("%q resolved to %v, want %d", c.raw, c.got, c.want)
			}
		}
		if len(problems) != wantProblems {
			t.Fatalf("problems %v, want %d", problems, wantProblems)
		}
	})
}

// FuzzParseRemoteEndpoints: the parser never panics; it accepts exactly "each" and "aggregated"
// with blanks around, and an accepted value's own name parses to it; a rejected one wraps
// ErrInvalidLoadPolicy. ResolveLoad keeps the Service's value when it parses, else reports it
// and leaves the setting unset (never the Namespace's value instead).
func FuzzParseRemoteEndpoints(f *testing.F) {
	for _, s := range []string{"each", "aggregated", " aggregated ", "Aggregated", "", "each,aggregated", "\x00"} {
		f.Add(s, "aggregated")
	}
	f.Fuzz(func(t *testing.T, service, namespace string) {
		v, err := ParseRemoteEndpoints(service)
		if err != nil {
			if !errors.Is(err, ErrInvalidLoadPolicy) || v != "" {
				t.Fatalf("ParseRemoteEndpoints(%q) = %q, %v", service, v, err)
			}
		} else {
			if v != model.RemoteEndpointsEach && v != model.RemoteEndpointsAggregated || strings.TrimSpace(service) != string(v) {
				t.Fatalf("ParseRemoteEndpoints(%q) = %q", service, v)
			}
			if again, err := ParseRemoteEndpoints(string(v)); err != nil || again != v {
				t.Fatalf("%q → %q → %q, %v", service, v, again, err)
			}
			if p := (model.LoadPolicy{RemoteEndpoints: v}); p.String() != "remote-endpoints="+string(v) {
				t.Fatalf("policy of %q prints as %q", v, p.String())
			}
		}
		p, problems := ResolveLoad(Sources{Service: Annotations{RemoteEndpoints: service}, Namespace: Annotations{RemoteEndpoints: namespace}})
		switch {
		case service == "":
			if nv, nerr := ParseRemoteEndpoints(namespace); namespace != "" && (p.RemoteEndpoints != nv || (nerr != nil) != (len(problems) == 1)) {
				t.Fatalf("namespace %q resolved to %q with problems %v", namespace, p.RemoteEndpoints, problems)
			}
		case err != nil:
			if p.RemoteEndpoints != "" || len(problems) != 1 || problems[0].Key != wellknown.RemoteEndpointsKey || problems[0].Origin != OriginService {
				t.Fatalf("invalid %q resolved to %q with problems %v", service, p.RemoteEndpoints, problems)
			}
		default:
			if p.RemoteEndpoints != v || len(problems) != 0 {
				t.Fatalf("%q resolved to %q with problems %v", service, p.RemoteEndpoints, problems)
			}
		}
	})
}
