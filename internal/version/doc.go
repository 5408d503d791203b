// Package version holds the version and commit a meshfed binary was built from, stamped at link
// time with -ldflags -X (deploy/images does so for the images), so that `--version` and the logs
// say exactly which build is running.
package version
