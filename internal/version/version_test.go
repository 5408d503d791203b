package version

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVCSRevision(t *testing.T) {
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{"no build info", nil, false, "unknown"},
		{"no vcs", &debug.BuildInfo{}, true, "unknown"},
		{"clean", &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"}}}, true, "abc"},
		{"dirty", &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "true"}}}, true, "abc-dirty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := vcsRevision(func() (*debug.BuildInfo, bool) { return tt.bi, tt.ok })
			if got != tt.want {
				t.Errorf("vcsRevision = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestGet(t *testing.T) {
	old, oldCommit := Version, Commit
	t.Cleanup(func() { Version, Commit = old, oldCommit })
	Version, Commit = "v1.2.3", "0123abc"
	i := Get()
	if i.Version != "v1.2.3" || i.Commit != "0123abc" || i.GoVersion != runtime.Version() {
		t.Fatalf("Get() = %+v", i)
	}
	want := "meshfed-hub v1.2.3 (commit 0123abc, " + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")"
	if got := i.String("meshfed-hub"); got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}

// TestLdflagsStamp builds a program with -ldflags -X, as deploy/images/build.sh does, and checks
// that the stamp reaches what --version prints.
func TestLdflagsStamp(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skips building a program")
	}
	bin := filepath.Join(t.TempDir(), "stamped")
	const pkg = "github.com/meshfed/meshfed/internal/version"
	build := exec.Command("go", "build", "-o", bin,
		"-ldflags", "-X "+pkg+".Version=v9.8.7 -X "+pkg+".Commit=abc123",
		"./testdata/stamped")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatalf("run %s: %v", bin, err)
	}
	want := "stamped v9.8.7 (commit abc123, " + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")"
	if got := strings.TrimSpace(string(out)); got != want {
		t.Fatalf("stamped binary printed %q, want %q", got, want)
	}
}
