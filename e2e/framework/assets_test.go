package framework

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAssetsDir(t *testing.T) {
	home := t.TempDir()
	tests := []struct {
		name                       string
		assets, tools, cache, want string
	}{
		{name: "kubebuilder assets win", assets: "/a", tools: "/t", cache: "/c", want: "/a"},
		{name: "tools dir next", tools: "/t", cache: "/c", want: "/t"},
		{name: "xdg cache", cache: "/c", want: "/c/meshfed/k8s-" + KubernetesVersion},
		{name: "home cache", want: filepath.Join(home, ".cache", "meshfed", "k8s-"+KubernetesVersion)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("HOME", home)
			t.Setenv(EnvKubebuilderAssets, tt.assets)
			t.Setenv(EnvToolsDir, tt.tools)
			t.Setenv("XDG_CACHE_HOME", tt.cache)
			got, err := AssetsDir()
			if err != nil {
				t.Fatalf("AssetsDir() error: %v", err)
			}
			if got != tt.want {
				t.Errorf("AssetsDir() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBinariesMissing(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]os.FileMode
	}{
		{name: "empty dir"},
		{name: "no etcd", files: map[string]os.FileMode{apiServerBinary: 0o755}},
		{name: "etcd not executable", files: map[string]os.FileMode{apiServerBinary: 0o755, etcdBinary: 0o644}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, mode := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/true\n"), mode); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv(EnvKubebuilderAssets, dir)
			if _, _, err := binaries(); !errors.Is(err, ErrToolsMissing) {
				t.Errorf("binaries() error = %v, want ErrToolsMissing", err)
			}
		})
	}
}

// fatalRecorder is a testing.TB whose Fatalf and Skip record instead of
// ending the test, so that Start's reaction to missing binaries is visible.
type fatalRecorder struct {
	testing.TB
	fatal, skipped string
}

func (r *fatalRecorder) Fatalf(format string, args ...any) { r.fatal = format }
func (r *fatalRecorder) Skipf(format string, args ...any)  { r.skipped = format }
func (r *fatalRecorder) Skip(args ...any)                  { r.skipped = "skip" }
func (r *fatalRecorder) SkipNow()                          { r.skipped = "skip" }

func TestStartFailsWithoutBinaries(t *testing.T) {
	t.Setenv(EnvKubebuilderAssets, t.TempDir())
	rec := &fatalRecorder{TB: t}
	if clusters := Start(rec, 1); clusters != nil {
		t.Errorf("Start() = %v, want nil", clusters)
	}
	if rec.skipped != "" {
		t.Errorf("Start() skipped the test, want a failure")
	}
	if !strings.Contains(rec.fatal, "make tools") {
		t.Errorf("Start() Fatalf message %q does not name `make tools`", rec.fatal)
	}
}
