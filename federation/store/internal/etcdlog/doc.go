// Package etcdlog bridges etcd's zap logs (client and embedded server) into log/slog, so that
// etcd logs through the same handler as the rest of meshfed.
//
// It is internal to federation/store: the client and the embedded server share it.
package etcdlog
