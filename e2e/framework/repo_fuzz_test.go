package framework

import (
	"strings"
	"testing"
)

func FuzzModulePath(f *testing.F) {
	f.Add("module github.com/meshfed/meshfed\n\ngo 1.26\n")
	f.Add("module \"x/y\" // c\n")
	f.Add("// module a/b\nmodule c/d\n")
	f.Fuzz(func(t *testing.T, gomod string) {
		got := modulePath([]byte(gomod))
		if strings.ContainsAny(got, " \t\n") {
			t.Fatalf("modulePath() = %q, which holds whitespace", got)
		}
		if got != "" && !strings.Contains(gomod, "module") {
			t.Fatalf("modulePath() = %q from a file without a module line", got)
		}
	})
}
