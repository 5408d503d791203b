//go:build !linux

package waypoint

import "net"

// newQuietConn returns c: the raw-syscall connection (quietconn_linux.go) is Linux's only.
func newQuietConn(c net.Conn) net.Conn { return c }
