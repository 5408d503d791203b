package model

import (
	"strings"
	"testing"
)

func TestValidHostname(t *testing.T) {
	for h, want := range map[string]bool{
		"web-0": true, "a": true, "0": true, strings.Repeat("a", 63): true,
		"": false, "-a": false, "a-": false, "Web": false, "a.b": false, "a_b": false, strings.Repeat("a", 64): false,
	} {
		if got := ValidHostname(h); got != want {
			t.Errorf("ValidHostname(%q) = %v, want %v", h, got, want)
		}
	}
}
