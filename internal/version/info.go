package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Info is what a binary reports about its build.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Get returns the build's Info: Version and Commit as linked, the commit falling back to the
// VCS revision the Go toolchain recorded (go build without -buildvcs=false records it).
func Get() Info {
	commit := Commit
	if commit == "unknown" {
		commit = vcsRevision(debug.ReadBuildInfo)
	}
	return Info{Version: Version, Commit: commit, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
}

// String is the one-line form printed by --version: "<program> <version> (commit <c>, <go>, <os/arch>)".
func (i Info) String(program string) string {
	return fmt.Sprintf("%s %s (commit %s, %s, %s)", program, i.Version, i.Commit, i.GoVersion, i.Platform)
}

// vcsRevision is the vcs.revision build setting, with "-dirty" when the tree was modified, or
// "unknown".
func vcsRevision(read func() (*debug.BuildInfo, bool)) string {
	bi, ok := read()
	if !ok {
		return "unknown"
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown"
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}
