package wellknown

import "strings"

// Kubernetes object names and label key prefixes are RFC 1123 DNS names in lower case.
const (
	maxDNSLabel     = 63
	maxDNSSubdomain = 253
)

// IsDNSLabel reports whether s is one lower-case RFC 1123 label, as namespace and Service
// names are: 1–63 lower-case letters, digits and '-', not '-' at either end.
func IsDNSLabel(s string) bool {
	if s == "" || len(s) > maxDNSLabel {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (c != '-' || i == 0 || i == len(s)-1) {
			return false
		}
	}
	return true
}

// IsDNSSubdomain reports whether s (no trailing dot) is one or more IsDNSLabel labels joined
// by dots, at most 253 characters.
func IsDNSSubdomain(s string) bool {
	if s == "" || len(s) > maxDNSSubdomain {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if !IsDNSLabel(label) {
			return false
		}
	}
	return true
}
