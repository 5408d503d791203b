//go:build !linux

package hbone

import "syscall"

// ackSamplesSupported is false: TCP_INFO is Linux's. Elsewhere a dead path under an HTTP/2
// connection is noticed by the keepalive PINGs (KeepAlive, then KeepAliveTimeout).
const ackSamplesSupported = false

// readAckSample reads nothing outside Linux.
func readAckSample(syscall.Conn) (ackSample, bool) { return ackSample{}, false }
