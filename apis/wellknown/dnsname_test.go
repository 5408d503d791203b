package wellknown

import (
	"regexp"
	"strings"
	"testing"
)

func TestDNSNames(t *testing.T) {
	for _, tc := range []struct {
		s                string
		label, subdomain bool
	}{
		{"a", true, true},
		{"web-1", true, true},
		{"0abc", true, true},
		{strings.Repeat("a", 63), true, true},
		{strings.Repeat("a", 64), false, false},
		{"", false, false},
		{"-a", false, false},
		{"a-", false, false},
		{"A", false, false},
		{"a_b", false, false},
		{"a.b", false, true},
		{"svc.cluster.local", false, true},
		{"a..b", false, false},
		{".a", false, false},
		{"a.", false, false},
		{"a.-b", false, false},
		{strings.Repeat("a.", 126) + "a", false, true},   // 253
		{strings.Repeat("a.", 126) + "ab", false, false}, // 254
	} {
		if got := IsDNSLabel(tc.s); got != tc.label {
			t.Errorf("IsDNSLabel(%q) = %v, want %v", tc.s, got, tc.label)
		}
		if got := IsDNSSubdomain(tc.s); got != tc.subdomain {
			t.Errorf("IsDNSSubdomain(%q) = %v, want %v", tc.s, got, tc.subdomain)
		}
	}
}

// FuzzDNSNames checks both against RFC 1123's grammar written as regular expressions.
func FuzzDNSNames(f *testing.F) {
	for _, s := range []string{"a", "a-b", "-a", "a.b", "a..b", "A", strings.Repeat("a", 64), "é"} {
		f.Add(s)
	}
	label := regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	subdomain := regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	f.Fuzz(func(t *testing.T, s string) {
		wantLabel := len(s) <= 63 && label.MatchString(s)
		if got := IsDNSLabel(s); got != wantLabel {
			t.Errorf("IsDNSLabel(%q) = %v, want %v", s, got, wantLabel)
		}
		wantSub := len(s) <= 253 && subdomain.MatchString(s)
		for l := range strings.SplitSeq(s, ".") {
			wantSub = wantSub && len(l) <= 63
		}
		if got := IsDNSSubdomain(s); got != wantSub {
			t.Errorf("IsDNSSubdomain(%q) = %v, want %v", s, got, wantSub)
		}
	})
}
