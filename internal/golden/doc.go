// Package golden compares test output with files under testdata/, so that what a command
// prints is reviewed as text in the repository; `go test ./pkg -update` rewrites the files.
package golden
