package quietconn

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// conn is a TCP connection whose Read and Write make their system calls as raw calls on
// the non-blocking socket, waiting in the network poller when it is not ready, instead of
// through syscall.Syscall.
//
// syscall.Syscall tells the scheduler that the goroutine may block (entersyscall); when every
// P was idle just before, which at a steady rate with idle gaps is before nearly every
// request, that wakes the sysmon thread from its long sleep, and sysmon then naps in 20 µs
// steps until the process is idle again: a futex wake and several nanosleeps, each a thread
// wake-up, per request. A read or write on a non-blocking socket never blocks, so it needs
// none of that. Everything but Read and Write is the *net.TCPConn's own (deadlines,
// CloseWrite, ReadFrom for copies).
type conn struct {
	*net.TCPConn
	rc syscall.RawConn
}

// New wraps c when it is a TCP connection, and returns it as it is otherwise.
func New(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	return &conn{TCPConn: tc, rc: rc}
}

// Read reads as net.Conn's Read: deadlines and Close interrupt the wait; 0 bytes and no
// error from the socket is io.EOF.
func (c *conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := c.rc.Read(func(fd uintptr) bool {
		for {
			r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
			if e == syscall.EINTR {
				continue
			}
			if e == syscall.EAGAIN {
				return false // wait in the poller, then call again
			}
			n, errno = int(r), e
			return true
		}
	})
	switch {
	case err != nil:
		return 0, c.opError("read", err)
	case errno != 0:
		return 0, c.opError("read", os.NewSyscallError("read", errno))
	case n == 0:
		return 0, io.EOF // as net.Conn: not wrapped
	}
	return n, nil
}

// Write writes all of p unless an error, a deadline or Close stops it, as net.Conn's Write.
func (c *conn) Write(p []byte) (int, error) {
	var n int
	var errno syscall.Errno
	err := c.rc.Write(func(fd uintptr) bool {
		for n < len(p) {
			r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[n])), uintptr(len(p)-n))
			if e == 0 {
				n += int(r)
				continue
			}
			if e == syscall.EAGAIN {
				return false // wait until writable, then call again
			}
			if e != syscall.EINTR {
				errno = e
				return true
			}
		}
		return true
	})
	switch {
	case err != nil:
		return n, c.opError("write", err)
	case errno != 0:
		return n, c.opError("write", os.NewSyscallError("write", errno))
	}
	return n, nil
}

// opError wraps err as net.Conn's methods do, so that callers' errors.Is and Timeout checks
// see the same errors (net.ErrClosed, os.ErrDeadlineExceeded, syscall.ECONNRESET).
func (c *conn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}
