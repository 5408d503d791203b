// Package demo is the local federation demo (make demo): real API servers as a hub and three
// members, joined with meshfedctl, federated by the real hub with its embedded etcd, inspected
// with meshfedctl status, get and describe.
//
// It is a Go test so that it runs on the same machinery as the suite, and it asserts what it
// shows.
package demo
