// Package archtest checks the package boundaries of DESIGN §2 over the transitive import graph,
// which a linter looking at one file's imports cannot see.
//
// It has no code of its own; its test runs `go list -deps` on each guarded package.
package archtest
