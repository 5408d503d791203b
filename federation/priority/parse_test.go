package priority

import (
	"errors"
	"slices"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
)

func TestParseMode(t *testing.T) {
	tests := []struct {
		in   string
		want model.Mode
		ok   bool
	}{
		{"Any", model.ModeAny, true},
		{"PreferNetwork", model.ModePreferNetwork, true},
		{"PreferCluster", model.ModePreferCluster, true},
		{"PreferRegion", model.ModePreferRegion, true},
		{"PreferClose", model.ModePreferClose, true},
		{"PreferSameZone", model.ModePreferClose, true},
		{"PreferSameNode", model.ModePreferSameNode, true},
		// Case-insensitive, as Istio reads its annotation (both sides through strings.ToLower).
		{"preferclose", model.ModePreferClose, true},
		{"PREFERSAMEZONE", model.ModePreferClose, true},
		{"prefersameNode", model.ModePreferSameNode, true},
		{"aNY", model.ModeAny, true},
		{"PreferNetwor\u212a", model.ModePreferNetwork, true}, // Kelvin sign lower-cases to k
		{"Prefer\u017fameZone", "", false},                    // long s does not lower-case to s
		{"FailoverPriority", "", false},
		{"failoverpriority", "", false},
		{" PreferClose", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := ParseMode(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseMode(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrUnknownMode) {
			t.Errorf("ParseMode(%q) error %v does not wrap ErrUnknownMode", tt.in, err)
		}
	}
}

func TestParseSpecMode(t *testing.T) {
	tests := []struct {
		in   string
		want model.Mode
		ok   bool
	}{
		{"PreferClose", model.ModePreferClose, true},
		{"PreferSameZone", model.ModePreferClose, true},
		{"PreferSameNode", model.ModePreferSameNode, true},
		{"PreferNetwork", "", false},
		{"Any", "", false},
		{"preferclose", "", false}, // the API server accepts the exact spelling only
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := ParseSpecMode(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSpecMode(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseFailoverPriority(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"topology.kubernetes.io/region", []string{"topology.kubernetes.io/region"}},
		{"topology.kubernetes.io/region, topology.kubernetes.io/zone ,rack",
			[]string{"topology.kubernetes.io/region", "topology.kubernetes.io/zone", "rack"}},
		{"topology.istio.io/network=net-1,app", []string{"topology.istio.io/network=net-1", "app"}},
		{"rack=", []string{"rack="}},
		{"", nil},
		{"  ", nil},
		{"a,,b", nil},
		{"a,", nil},
		{"a,a", nil},
		{"a=x,a=y", nil},
		{"-bad", nil},
		{"Upper.Case/x", nil},
		{"a/b/c", nil},
		{"k=bad value", nil},
		{"k=a=b", nil},
	}
	for _, tt := range tests {
		got, err := ParseFailoverPriority(tt.in)
		if !slices.Equal(got, tt.want) || (err == nil) != (tt.want != nil) {
			t.Errorf("ParseFailoverPriority(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if err != nil && !errors.Is(err, ErrInvalidFailoverPriority) {
			t.Errorf("ParseFailoverPriority(%q) error %v does not wrap ErrInvalidFailoverPriority", tt.in, err)
		}
	}
}

func TestIsQualifiedName(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"app", true},
		{"a", true},
		{"app.kubernetes.io/name", true},
		{"example.com/My_Key-1.x", true},
		{"", false},
		{"/name", false},
		{"prefix/", false},
		{"-a", false},
		{"a-", false},
		{"EXAMPLE.com/a", false},
		{"a..b/c", false},
		{string(make([]byte, 64)), false},
	}
	for _, tt := range tests {
		if got := isQualifiedName(tt.in); got != tt.want {
			t.Errorf("isQualifiedName(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
