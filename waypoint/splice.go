package waypoint

import (
	"errors"
	"io"
	"net"
	"sync"
)

// splice copies both directions between a and b until both have ended. A direction that ends
// cleanly (EOF) is passed on as a half-close (CloseWrite) so that the other direction keeps
// flowing; a direction that fails (reset, error) closes both connections. TCP-to-TCP copies use
// splice(2) on Linux through net.TCPConn.ReadFrom.
func splice(a, b *net.TCPConn) {
	var wg sync.WaitGroup
	wg.Go(func() { pipe(b, a) })
	pipe(a, b)
	wg.Wait()
}

// pipe copies src to dst, then half-closes dst; on error it closes both ends.
func pipe(dst, src *net.TCPConn) {
	_, err := io.Copy(dst, src)
	if err != nil && !errors.Is(err, net.ErrClosed) {
		_ = dst.Close()
		_ = src.Close()
		return
	}
	_ = dst.CloseWrite()
}
