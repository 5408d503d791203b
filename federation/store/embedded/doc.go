// Package embedded runs the federation store's etcd server inside the hub process: one member,
// optionally serving clients over (mutual) TLS, with periodic compaction and etcd's logs in slog.
//
// It is apart from federation/store so that store clients (waypoints, the CLI) do not link the
// etcd server; only the hub, tests and benchmarks that start a store import it.
package embedded
