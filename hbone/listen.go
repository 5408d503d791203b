package hbone

import (
	"github.com/meshfed/meshfed/internal/quietconn"

	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/meshfed/meshfed/internal/dualport"
)

// Listen opens a TCP listener and a UDP socket on the same address and port, for HTTP/2 and
// HTTP/3. With port 0 it picks a port free on both.
func Listen(addr string) (net.Listener, net.PacketConn, error) {
	return dualport.Listen(addr)
}

// tlsListener accepts TCP connections within the Server's admission caps, runs each TLS
// handshake on a goroutine of its own within a timeout, and hands net/http only connections
// whose handshake completed. A connection over a cap is reset at once; an accepted one holds
// its slot until it is closed.
type tlsListener struct {
	raw     net.Listener
	conf    *tls.Config
	timeout time.Duration
	adm     *admission
	log     *slog.Logger

	ctx       context.Context // ends when the listener stops
	cancel    context.CancelFunc
	ready     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
	err       error // the accept error that stopped the listener; read after done
}

func newTLSListener(raw net.Listener, conf *tls.Config, timeout time.Duration, adm *admission, log *slog.Logger) *tlsListener {
	l := &tlsListener{raw: raw, conf: conf, timeout: timeout, adm: adm, log: log, ready: make(chan net.Conn), done: make(chan struct{})}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	l.wg.Go(l.acceptLoop)
	return l
}

// Accept returns the next connection whose TLS handshake completed.
func (l *tlsListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.done:
		if l.err != nil {
			return nil, l.err
		}
		return nil, net.ErrClosed
	}
}

// Close stops accepting, fails the handshakes in progress and waits for their goroutines.
func (l *tlsListener) Close() error {
	err := l.raw.Close()
	l.stop(nil)
	l.wg.Wait()
	return err
}

// Addr returns the listener's address.
func (l *tlsListener) Addr() net.Addr { return l.raw.Addr() }

func (l *tlsListener) stop(err error) {
	l.closeOnce.Do(func() {
		l.err = err
		close(l.done)
		l.cancel()
	})
}

// acceptBackoff is the longest pause after a temporary accept error (such as EMFILE).
const acceptBackoff = time.Second

func (l *tlsListener) acceptLoop() {
	var pause time.Duration
	for {
		c, err := l.raw.Accept()
		if err != nil {
			if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				pause = min(max(2*pause, 5*time.Millisecond), acceptBackoff)
				l.log.Warn("Failed to accept HBONE connection, retrying", "error", err, "pause", pause)
				select {
				case <-time.After(pause):
					continue
				case <-l.done:
					return
				}
			}
			l.stop(err)
			return
		}
		pause = 0
		src := sourceOf(c.RemoteAddr())
		if v := l.adm.admit(src); v != admitted {
			l.log.Debug("Refused HBONE connection", "remote", c.RemoteAddr().String(), "limit", v.String())
			reset(c)
			continue
		}
		// As the dialing side: raw syscalls on the socket, no sysmon wake-up per read or write.
		l.wg.Go(func() { l.handshake(quietconn.New(c), src) })
	}
}

// handshake runs the TLS handshake of c and hands the connection to Accept. The handshake
// ends with the timeout or the listener; tls closes c when it does.
func (l *tlsListener) handshake(c net.Conn, src source) {
	ac := &admittedConn{Conn: c, adm: l.adm, src: src}
	tc := tls.Server(ac, l.conf)
	ctx, cancel := context.WithTimeout(l.ctx, l.timeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		l.log.Debug("HBONE handshake failed", "remote", c.RemoteAddr().String(), "error", err)
		_ = tc.Close()
		return
	}
	ac.shaken()
	select {
	case l.ready <- tc:
	case <-l.done:
		_ = tc.Close()
	}
}

// admittedConn gives its admission slot back when it is closed.
type admittedConn struct {
	net.Conn
	adm  *admission
	src  source
	once sync.Once
	done atomic.Bool // past the handshake
}

// shaken counts the connection as past its handshake.
func (c *admittedConn) shaken() {
	c.done.Store(true)
	c.adm.handshakeDone(c.src)
}

func (c *admittedConn) Close() error {
	c.once.Do(func() { c.adm.release(c.src, !c.done.Load()) })
	return c.Conn.Close()
}

// reset closes c with a TCP RST, so that a refused flood leaves no TIME_WAIT behind.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}
