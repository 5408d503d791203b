// Package dualport opens a TCP listener and a UDP socket on one address and port, as DNS and
// HBONE (HTTP/2 over TCP, HTTP/3 over UDP) both need.
package dualport

import (
	"fmt"
	"net"
	"strconv"
)

// attempts bounds the search for a port number free on both TCP and UDP.
const attempts = 16

// Listen opens a TCP listener and a UDP socket on the same address and port. With port 0 it
// tries ports the kernel picks for TCP until one is free for UDP too: a port free for one
// protocol may be taken for the other, by any process on the machine.
func Listen(addr string) (net.Listener, net.PacketConn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to parse listen address %s: %w", addr, err)
	}
	var lastErr error
	for range attempts {
		tcp, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("failed to listen on tcp %s: %w", addr, err)
		}
		p := tcp.Addr().(*net.TCPAddr).Port
		udp, err := net.ListenPacket("udp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err == nil {
			return tcp, udp, nil
		}
		_ = tcp.Close()
		lastErr = err
		if port != "0" {
			break
		}
	}
	return nil, nil, fmt.Errorf("failed to listen on udp %s: %w", addr, lastErr)
}
