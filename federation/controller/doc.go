// Package controller holds the hub's reconcilers: one keeps a live connection per MemberCluster,
// the other merges every synced member's exports and publishes the result to the federation
// store and as GlobalService objects on the hub.
//
// Reconcilers gather, call pure functions (member.Exports, merge.Merge, the *_desired.go
// builders here), then apply only what changed.
package controller
