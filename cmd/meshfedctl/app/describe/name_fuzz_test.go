package describe

import (
	"strings"
	"testing"
)

// FuzzParseName: any argument either parses into a name without "/" (and a namespace only for
// a namespaced kind) or is refused; it never panics.
func FuzzParseName(f *testing.F) {
	f.Add("shop/web", true, "")
	f.Add("web", false, "shop")
	f.Add("/", true, "x")
	f.Add("a/b/c", true, "a")
	f.Fuzz(func(t *testing.T, arg string, namespaced bool, ns string) {
		key, err := parseName(arg, namespaced, ns)
		if err != nil {
			return
		}
		if key.Name == "" || strings.Contains(key.Name, "/") || (!namespaced && key.Namespace != "") {
			t.Fatalf("parseName(%q, %v, %q) = %v", arg, namespaced, ns, key)
		}
	})
}
