package version

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestStringNamesEverything(t *testing.T) {
	got := String("meshfed-hub")
	want := "meshfed-hub dev (commit unknown, " + runtime.Version() + ")"
	if got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
}

// TestLdflagsStamp builds a program with -ldflags -X, as deploy/images does, and checks that
// the stamp reaches String.
func TestLdflagsStamp(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skips building a program")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "stamped")
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
	want := "stamped v9.8.7 (commit abc123, " + runtime.Version() + ")"
	if got := strings.TrimSpace(string(out)); got != want {
		t.Fatalf("stamped binary printed %q, want %q", got, want)
	}
}
