package priority

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportsArePure enforces the package boundary of DESIGN §2: the non-test files import only
// the standard library, apis/wellknown (itself standard library only) and federation/model.
func TestImportsArePure(t *testing.T) {
	allowedImports := map[string]bool{
		"github.com/meshfed/meshfed/apis/wellknown":   true,
		"github.com/meshfed/meshfed/federation/model": true,
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatalf("failed to parse file %s: %v", name, err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			if strings.Contains(first, ".") && !allowedImports[path] {
				t.Errorf("%s imports %s; only the standard library, apis/wellknown and federation/model are allowed", name, path)
			}
		}
	}
}
