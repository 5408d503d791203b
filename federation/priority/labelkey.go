package priority

import (
	"strings"

	"github.com/meshfed/meshfed/apis/wellknown"
)

// Kubernetes label syntax (apimachinery validation.IsQualifiedName and IsValidLabelValue),
// written here because this package imports no Kubernetes; DNS names are apis/wellknown's.
const maxNameLength = 63

// isQualifiedName reports whether s is a valid label key: [prefix/]name, where prefix is a
// DNS-1123 subdomain and name is 1-63 alphanumerics, '-', '_' or '.', starting and ending
// alphanumeric.
func isQualifiedName(s string) bool {
	prefix, name, hasPrefix := strings.Cut(s, "/")
	if !hasPrefix {
		return isLabelName(s)
	}
	return wellknown.IsDNSSubdomain(prefix) && isLabelName(name)
}

// isLabelName reports whether s is a non-empty label name.
func isLabelName(s string) bool {
	return s != "" && isLabelValue(s)
}

// isLabelValue reports whether s is a valid label value (possibly empty).
func isLabelValue(s string) bool {
	if len(s) > maxNameLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		edge := i == 0 || i == len(s)-1
		if !isAlnum(c) && (edge || (c != '-' && c != '_' && c != '.')) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool { return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
