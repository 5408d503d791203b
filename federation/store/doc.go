// Package store is the federation store on etcd: typed, versioned records under stable keys
// (DESIGN §4.1), a leader-fenced writer for the hub, and typed reads and resumable prefix
// watches for waypoints and the CLI.
//
// With its subpackages (the embedded server, the log bridge) it is the only code of meshfed that
// imports etcd, so that every key, encoding and fencing rule lives in one place and the rest of
// the project talks in model types. The etcd server lives in package embedded, so that clients
// do not link it. Its record types are the stored format, pinned by golden files under
// testdata/; from_model.go (for the hub) and to_model.go (for every reader) convert.
//
// An endpoints record too large for one etcd value is stored in parts (records_split.go:
// chunks and a head naming them, split.go writes them); readers never see the parts, only whole
// records, and only once every part is stored (join.go).
package store
