package hbone

import (
	"fmt"
	"net"
	"strconv"
	"sync"
)

// listenAttempts bounds the search for a free port number on both TCP and UDP.
const listenAttempts = 16

// Listen opens a TCP listener and a UDP socket on the same address and port. With port 0 it
// picks a port free on both.
func Listen(addr string) (net.Listener, net.PacketConn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to parse listen address %s: %w", addr, err)
	}
	var lastErr error
	for range listenAttempts {
		tcp, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("failed to listen on tcp %s: %w", addr, err)
		}
		p := tcp.Addr().(*net.TCPAddr).Port
		udp, err := net.ListenPacket("udp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err == nil {
			return tcp, udp, nil
		}
		tcp.Close()
		lastErr = err
		if port != "0" {
			break
		}
	}
	return nil, nil, fmt.Errorf("failed to listen on udp %s: %w", addr, lastErr)
}

// limitListener closes connections accepted beyond max concurrently open ones.
type limitListener struct {
	net.Listener
	sem chan struct{}
}

func newLimitListener(l net.Listener, max int) net.Listener {
	return &limitListener{Listener: l, sem: make(chan struct{}, max)}
}

// Accept returns the next connection within the limit; connections over it are closed.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.sem <- struct{}{}:
			return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
		default:
			c.Close()
		}
	}
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
