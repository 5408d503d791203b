package quietconn

import (
	"io"
	"net"
	"os"
	"sync"
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
	r  readOp
	w  writeOp
}

// readOp is one Read's system call and its result. The function handed to the RawConn is
// bound once per connection, not built per call: a closure over the call's buffer would be
// allocated by every Read, since it escapes through the RawConn interface. mu makes
// concurrent Reads (net.Conn allows them) take turns over the fields.
type readOp struct {
	mu    sync.Mutex
	p     []byte
	n     int
	errno syscall.Errno
	fn    func(fd uintptr) bool // r.do, bound in New
}

// do reads into p once the socket has data; false asks the poller to wait.
func (r *readOp) do(fd uintptr) bool {
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&r.p[0])), uintptr(len(r.p)))
		if e == syscall.EINTR {
			continue
		}
		if e == syscall.EAGAIN {
			return false // wait in the poller, then call again
		}
		r.n, r.errno = int(n), e
		return true
	}
}

// writeOp is one Write's system calls and their result, as readOp is for Read.
type writeOp struct {
	mu    sync.Mutex
	p     []byte
	n     int
	errno syscall.Errno
	fn    func(fd uintptr) bool // w.do, bound in New
}

// do writes what is left of p; false asks the poller to wait until the socket is writable.
func (w *writeOp) do(fd uintptr) bool {
	for w.n < len(w.p) {
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&w.p[w.n])), uintptr(len(w.p)-w.n))
		if e == 0 {
			w.n += int(n)
			continue
		}
		if e == syscall.EAGAIN {
			return false // wait until writable, then call again
		}
		if e != syscall.EINTR {
			w.errno = e
			return true
		}
	}
	return true
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
	q := &conn{TCPConn: tc, rc: rc}
	q.r.fn, q.w.fn = q.r.do, q.w.do
	return q
}

// Read reads as net.Conn's Read: deadlines and Close interrupt the wait; 0 bytes and no
// error from the socket is io.EOF.
func (c *conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r := &c.r
	r.mu.Lock()
	r.p, r.n, r.errno = p, 0, 0
	err := c.rc.Read(r.fn)
	n, errno := r.n, r.errno
	r.p = nil
	r.mu.Unlock()
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
	w := &c.w
	w.mu.Lock()
	w.p, w.n, w.errno = p, 0, 0
	err := c.rc.Write(w.fn)
	n, errno := w.n, w.errno
	w.p = nil
	w.mu.Unlock()
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
