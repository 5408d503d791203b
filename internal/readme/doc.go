// Package readme holds tests that keep the repository's README true to the code: every
// metric a binary serves is listed in its metrics reference.
package readme
