package version

// Version and Commit are set at link time (-ldflags -X); a plain go build reports "dev" and, when
// the build recorded no VCS revision, "unknown".
var (
	// Version is the release version, "dev" outside a release build.
	Version = "dev"
	// Commit is the git commit the binary was built from.
	Commit = "unknown"
)
