// Package version holds the version and commit every meshfed binary reports with --version and
// its version subcommand. Release builds set them with
// -ldflags "-X github.com/meshfed/meshfed/internal/version.Version=v0.1.0 -X …/internal/version.Commit=abc123".
package version
