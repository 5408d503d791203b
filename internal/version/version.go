package version

import (
	"fmt"
	"runtime"
)

// Version and Commit are set at link time:
//
//	go build -ldflags "-X github.com/meshfed/meshfed/internal/version.Version=v0.1.0 \
//	  -X github.com/meshfed/meshfed/internal/version.Commit=$(git rev-parse HEAD)"
//
// A plain `go build` leaves the defaults, which say so.
var (
	Version = "dev"
	Commit  = "unknown"
)

// String is the line `--version` prints: the program, its version and commit, and the Go release
// that built it.
func String(program string) string {
	return fmt.Sprintf("%s %s (commit %s, %s)", program, Version, Commit, runtime.Version())
}
