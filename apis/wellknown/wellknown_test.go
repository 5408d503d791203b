package wellknown

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestDerivedServiceName(t *testing.T) {
	long := strings.Repeat("a", 63)
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "short", in: "web", want: "web-global"},
		{name: "fits exactly", in: strings.Repeat("b", 56), want: strings.Repeat("b", 56) + "-global"},
		{name: "one too long", in: strings.Repeat("c", 57), want: strings.Repeat("c", 47) + "-" + hash8(strings.Repeat("c", 57)) + "-global"},
		{name: "longest service name", in: long, want: strings.Repeat("a", 47) + "-" + hash8(long) + "-global"},
		{name: "cut at a dash", in: strings.Repeat("d", 46) + "-" + strings.Repeat("e", 16), want: strings.Repeat("d", 46) + "-" + hash8(strings.Repeat("d", 46)+"-"+strings.Repeat("e", 16)) + "-global"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DerivedServiceName(tt.in)
			if got != tt.want {
				t.Errorf("DerivedServiceName(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if errs := validation.IsDNS1035Label(got); len(errs) > 0 {
				t.Errorf("DerivedServiceName(%q) = %q is no valid Service name: %v", tt.in, got, errs)
			}
		})
	}
	// Long names sharing their first 47 characters still get distinct derived names.
	a, b := DerivedServiceName(long), DerivedServiceName(long[:62]+"y")
	if a == b {
		t.Errorf("distinct long names share derived name %q", a)
	}
}

// hash8 is the expected hash part: the first four bytes of the SHA-256, in hex.
func hash8(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}
