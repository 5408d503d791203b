package framework

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestModulePath(t *testing.T) {
	tests := []struct {
		name, gomod, want string
	}{
		{name: "bare", gomod: "module github.com/meshfed/meshfed\n\ngo 1.26\n", want: ModulePath},
		{name: "quoted", gomod: "module \"github.com/meshfed/meshfed\"\n", want: ModulePath},
		{name: "comment", gomod: "// hello\nmodule x/y // trailing\n", want: "x/y"},
		{name: "nested module", gomod: "module github.com/meshfed/meshfed/e2e/tools\n", want: ModulePath + "/e2e/tools"},
		{name: "no module line", gomod: "go 1.26\n", want: ""},
		{name: "empty", gomod: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := modulePath([]byte(tt.gomod)); got != tt.want {
				t.Errorf("modulePath() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRepoRoot(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		path := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("repo/go.mod", "module "+ModulePath+"\n")
	write("repo/e2e/tools/go.mod", "module "+ModulePath+"/e2e/tools\n")
	write("repo/e2e/framework/x.go", "package framework\n")
	write("other/go.mod", "module example.com/other\n")

	tests := []struct {
		name, start, want string
		wantErr           error
	}{
		{name: "root itself", start: "repo", want: "repo"},
		{name: "package dir", start: "repo/e2e/framework", want: "repo"},
		{name: "nested module passed over", start: "repo/e2e/tools", want: "repo"},
		{name: "other module", start: "other", wantErr: ErrRepoRootNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RepoRoot(filepath.Join(root, tt.start))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("RepoRoot() error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && got != filepath.Join(root, tt.want) {
				t.Errorf("RepoRoot() = %q, want %q", got, filepath.Join(root, tt.want))
			}
		})
	}
}

func TestRepoRootOfThisPackage(t *testing.T) {
	root, err := RepoRoot(".")
	if err != nil {
		t.Fatalf("RepoRoot(.) error: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "e2e", "framework", "doc.go")); err != nil {
		t.Errorf("RepoRoot(.) = %q, which does not hold this package: %v", root, err)
	}
}

func TestClusterNames(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		given   []string
		want    []string
		wantErr bool
	}{
		{name: "defaults", n: 2, want: []string{"cluster-1", "cluster-2"}},
		{name: "given", n: 2, given: []string{"east", "west"}, want: []string{"east", "west"}},
		{name: "zero", n: 0, wantErr: true},
		{name: "count mismatch", n: 3, given: []string{"a"}, wantErr: true},
		{name: "duplicate", n: 2, given: []string{"a", "a"}, wantErr: true},
		{name: "path", n: 1, given: []string{"a/b"}, wantErr: true},
		{name: "dotdot", n: 1, given: []string{".."}, wantErr: true},
		{name: "empty", n: 1, given: []string{""}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := clusterNames(tt.n, tt.given)
			if (err != nil) != tt.wantErr {
				t.Fatalf("clusterNames() error = %v, wantErr %v", err, tt.wantErr)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("clusterNames() = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("clusterNames()[%d] = %q, want %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}
