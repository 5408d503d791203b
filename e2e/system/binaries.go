package system

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/meshfed/meshfed/e2e/framework"
)

// Binaries are the meshfed programs built from the tree.
type Binaries struct {
	Hub, Waypoint, Ctl, DNS string
}

// bins is set by Main for the test binary's lifetime.
var bins *Binaries

// Main builds the binaries once for a test package, runs its tests, and removes them. Call it
// from TestMain.
func Main(m *testing.M) {
	runBackendIfAsked()
	dir, err := os.MkdirTemp("", "meshfed-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	b, err := Build(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	bins = b
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// Build compiles meshfed-hub, meshfed-waypoint, meshfedctl and meshfed-dns into dir.
func Build(dir string) (*Binaries, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	root, err := framework.RepoRoot(wd)
	if err != nil {
		return nil, err
	}
	b := &Binaries{
		Hub: filepath.Join(dir, "meshfed-hub"), Waypoint: filepath.Join(dir, "meshfed-waypoint"), Ctl: filepath.Join(dir, "meshfedctl"),
		DNS: filepath.Join(dir, "meshfed-dns"),
	}
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "./cmd/meshfed-hub", "./cmd/meshfed-waypoint", "./cmd/meshfedctl", "./cmd/meshfed-dns")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("failed to build the meshfed binaries: %w\n%s", err, out)
	}
	return b, nil
}
