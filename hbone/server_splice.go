package hbone

import (
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// copyBufferSize is the chunk size of tunnel copies: large enough for few syscalls and
// frames, small enough to keep 1,000 idle tunnels cheap (buffers are pooled, held only
// while copying).
const copyBufferSize = 64 << 10

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, copyBufferSize); return &b }}

// copyStream copies src to dst with a pooled buffer, calling flush after every write and
// telling idle (if not nil) about every read.
func copyStream(dst io.Writer, src io.Reader, flush func() error, idle *idleWatch) (int64, error) {
	bp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bp)
	buf := *bp
	var total int64
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			idle.touch()
			w, werr := dst.Write(buf[:n])
			total += int64(w)
			if werr == nil && flush != nil {
				werr = flush()
			}
			if werr != nil {
				return total, werr
			}
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				return total, nil
			}
			return total, rerr
		}
	}
}

// closeWrite half-closes c when it can, else closes it.
func closeWrite(c net.Conn) error {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Close()
}

// serveH2 handles one HTTP/2 CONNECT. net/http sends END_STREAM only when the handler
// returns, so the handler stays until the upstream finished sending; by then the client's
// direction has either ended (its FIN was passed on as FIN) or is reset with NO_ERROR.
func (s *Server) serveH2(w http.ResponseWriter, r *http.Request) {
	req, release, ref := s.accept(r, ProtocolH2)
	if ref == nil {
		defer release()
		var up net.Conn
		if up, ref = s.connect(r.Context(), req); ref == nil {
			s.spliceH2(w, r, up)
			return
		}
	}
	s.refuse(w, r, ref)
}

func (s *Server) spliceH2(w http.ResponseWriter, r *http.Request, up net.Conn) {
	s.beginTunnel()
	defer s.endTunnel()
	defer up.Close()
	rc := http.NewResponseController(w)
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}
	idle := s.watchIdle(up)
	defer idle.stop()
	go func() {
		if _, err := copyStream(up, r.Body, nil, idle); err != nil {
			up.Close()
			return
		}
		_ = closeWrite(up)
	}()
	if _, err := copyStream(w, up, rc.Flush, idle); err != nil && r.Context().Err() == nil {
		// Reset the stream so that the client sees an error, not a clean EOF.
		panic(http.ErrAbortHandler)
	}
}

// serveH3 handles one HTTP/3 CONNECT; QUIC carries FIN per direction, so both directions
// are spliced independently and the handler returns when both ended.
func (s *Server) serveH3(w http.ResponseWriter, r *http.Request) {
	req, release, ref := s.accept(r, ProtocolH3)
	if ref == nil {
		defer release()
		var up net.Conn
		if up, ref = s.connect(r.Context(), req); ref == nil {
			s.spliceH3(w, up)
			return
		}
	}
	s.refuse(w, r, ref)
}

func (s *Server) spliceH3(w http.ResponseWriter, up net.Conn) {
	defer up.Close()
	w.WriteHeader(http.StatusOK)
	str, err := w.(http3.HTTPStreamer).HTTPStream()
	if err != nil {
		return
	}
	s.beginTunnel()
	defer s.endTunnel()
	idle := s.watchIdle(up)
	defer idle.stop()
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := copyStream(up, str, nil, idle); err != nil {
			str.CancelRead(quic.StreamErrorCode(h3RequestCanceled))
			up.Close()
			return
		}
		_ = closeWrite(up)
	})
	if _, err := copyStream(str, up, nil, idle); err != nil {
		str.CancelWrite(quic.StreamErrorCode(h3InternalError))
		str.CancelRead(quic.StreamErrorCode(h3InternalError))
	} else {
		_ = str.Close()
	}
	wg.Wait()
}

// idleChecks is how many times per TunnelIdleTimeout a tunnel's activity is checked, so a
// tunnel closes between 1 and 1+1/idleChecks timeouts after its last byte.
const idleChecks = 4

// idleWatch closes a tunnel's upstream connection once no byte passed in either direction for
// the tunnel idle timeout, which ends both copies. Copies count their reads; a timer checks
// the count every timeout/idleChecks, so an active tunnel costs one atomic add per read.
type idleWatch struct {
	reads   atomic.Uint64
	stopped atomic.Bool
	seen    uint64 // reads at the last check; owned by the timer's function
	quiet   int    // checks in a row without reads; owned by the timer's function
	period  time.Duration
	timer   *time.Timer
	expire  func()
}

// watchIdle starts the idle watch of a tunnel whose upstream connection is up.
func (s *Server) watchIdle(up net.Conn) *idleWatch {
	w := &idleWatch{period: s.opts.Limits.TunnelIdleTimeout / idleChecks}
	w.expire = func() {
		s.idleClosed.Add(1)
		s.opts.Logger.Debug("Closing idle tunnel", "upstream", up.RemoteAddr().String(), "timeout", s.opts.Limits.TunnelIdleTimeout)
		_ = up.Close()
	}
	w.timer = time.AfterFunc(w.period, w.check)
	return w
}

// touch records activity; a nil watch ignores it.
func (w *idleWatch) touch() {
	if w != nil {
		w.reads.Add(1)
	}
}

func (w *idleWatch) check() {
	if w.stopped.Load() {
		return
	}
	if n := w.reads.Load(); n != w.seen {
		w.seen, w.quiet = n, 0
	} else if w.quiet++; w.quiet >= idleChecks {
		w.expire()
		return
	}
	w.timer.Reset(w.period)
}

// stop ends the watch when the tunnel ends.
func (w *idleWatch) stop() {
	w.stopped.Store(true)
	w.timer.Stop()
}
