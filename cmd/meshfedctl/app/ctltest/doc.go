// Package ctltest runs meshfedctl in tests, in process with buffers, and makes its output
// comparable with golden files: what the API server makes up (uids, resource versions,
// timestamps, ages) is replaced by placeholders.
package ctltest
