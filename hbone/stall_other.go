//go:build !linux

package hbone

import "syscall"

// tcpStalled is Linux's (TCP_INFO); elsewhere a stalled path is left to the keepalive PINGs.
func tcpStalled(syscall.Conn) bool { return false }
