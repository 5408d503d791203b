package wptest

import (
	"bufio"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// WaitTimeout bounds every wait for the table or the network in the waypoint's tests.
const WaitTimeout = 10 * time.Second

// RawBackend accepts connections on 127.0.0.1 and hands each to its serve function; it
// counts them.
type RawBackend struct {
	// Addr is the backend's ip:port.
	Addr string
	// Conns counts the connections accepted.
	Conns atomic.Int64
}

// StartRawBackend starts a backend that serves each connection with serve, within WaitTimeout,
// until the test ends.
func StartRawBackend(t *testing.T, serve func(c net.Conn, br *bufio.Reader)) *RawBackend {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &RawBackend{Addr: l.Addr().String()}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			b.Conns.Add(1)
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(WaitTimeout))
				serve(c, bufio.NewReader(c))
			}()
		}
	}()
	t.Cleanup(func() { _ = l.Close(); <-done })
	return b
}
