package hbone

import (
	"errors"
	"net"
	"sync"
	"time"
)

// ErrDeadlineUnsupported is returned by the deadline methods of an HTTP/2 tunnel; use a
// context or Close to bound an HTTP/2 tunnel instead.
var ErrDeadlineUnsupported = errors.New("hbone: deadlines are not supported on HTTP/2 tunnels")

// stream is one tunnel's byte stream on a multiplexed connection.
type stream interface {
	Read(p []byte) (int, error)
	Write(p []byte) (int, error)
	// closeWrite ends the sending direction (END_STREAM / FIN).
	closeWrite() error
	// abort tears down both directions.
	abort() error
	setReadDeadline(t time.Time) error
	setWriteDeadline(t time.Time) error
}

// Conn is an established tunnel. It is a net.Conn whose CloseWrite half-closes the tunnel:
// the target sees FIN and may still answer. Close releases the stream back to the pool.
type Conn struct {
	s        stream
	protocol Protocol
	local    net.Addr
	remote   net.Addr

	closeOnce sync.Once
	release   func()
}

var _ net.Conn = (*Conn)(nil)

// Read reads from the target. It returns io.EOF once the target closed its side.
func (c *Conn) Read(p []byte) (int, error) { return c.s.Read(p) }

// Write writes to the target.
func (c *Conn) Write(p []byte) (int, error) { return c.s.Write(p) }

// CloseWrite half-closes the tunnel: the target reads EOF, reading from it continues.
func (c *Conn) CloseWrite() error { return c.s.closeWrite() }

// Close tears the tunnel down in both directions and releases its stream slot.
func (c *Conn) Close() error {
	err := net.ErrClosed
	c.closeOnce.Do(func() {
		err = c.s.abort()
		if c.release != nil {
			c.release()
		}
	})
	return err
}

// Protocol returns the transport carrying the tunnel.
func (c *Conn) Protocol() Protocol { return c.protocol }

// LocalAddr returns the local address of the underlying connection to the peer.
func (c *Conn) LocalAddr() net.Addr { return c.local }

// RemoteAddr returns the peer's address (not the target's).
func (c *Conn) RemoteAddr() net.Addr { return c.remote }

// SetDeadline sets both deadlines; see SetReadDeadline.
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.s.setReadDeadline(t); err != nil {
		return err
	}
	return c.s.setWriteDeadline(t)
}

// SetReadDeadline sets the read deadline. HTTP/3 tunnels support it; HTTP/2 tunnels return
// ErrDeadlineUnsupported.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.s.setReadDeadline(t) }

// SetWriteDeadline sets the write deadline, with the same support as SetReadDeadline.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.s.setWriteDeadline(t) }
