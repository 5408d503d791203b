package waypoint

import (
	"errors"
	"io"
	"net"
	"sync"
)

// splice copies both directions between a and b until both have ended. A direction that ends
// cleanly (EOF) is passed on as a half-close (CloseWrite, on any conn that has it: TCP and
// HBONE tunnels) so that the other direction keeps flowing; a direction that fails (reset,
// error) closes both connections. TCP-to-TCP copies use splice(2) on Linux through
// net.TCPConn.ReadFrom.
func splice(a, b net.Conn) {
	var wg sync.WaitGroup
	wg.Go(func() { pipe(b, a) })
	pipe(a, b)
	wg.Wait()
}

// halfCloser is a conn that can end its sending direction alone.
type halfCloser interface {
	CloseWrite() error
}

// pipe copies src to dst, then half-closes dst (closes it when it cannot half-close); on error
// it closes both ends.
func pipe(dst, src net.Conn) {
	_, err := io.Copy(dst, src)
	if err != nil && !errors.Is(err, net.ErrClosed) {
		_ = dst.Close()
		_ = src.Close()
		return
	}
	if hc, ok := dst.(halfCloser); ok {
		_ = hc.CloseWrite()
		return
	}
	_ = dst.Close()
}
