package http1

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// h1Response is the http.ResponseWriter of one HTTP/1.1 request that serveHTTP1 read: it
// frames the body by Content-Length when the header has one, else chunked (HTTP/1.1 clients,
// with trailers) or up to the connection's close (HTTP/1.0), and supports Flush and Hijack
// (protocol upgrades), which is what httputil.ReverseProxy needs of it.
type h1Response struct {
	c  net.Conn
	br *bufio.Reader
	bw *bufio.Writer
	// Of the request as it was read (the handler may change the request it is given):
	head     bool // HEAD
	reqClose bool // Connection: close, or HTTP/1.0 without keep-alive (ReadRequest's Close)
	http11   bool // HTTP/1.1 or later

	header      http.Header
	wroteHeader bool
	hijacked    bool
	closeAfter  bool // the connection ends after this response
	// idle, when set, is asked as the headers are written whether the connection ends
	// after this response (the waypoint is draining).
	idle     *h1Idle
	bodyless bool  // HEAD, 1xx, 204, 304: no body whatever is written
	length   int64 // declared Content-Length, -1 when none
	written  int64
	chunked  io.WriteCloser // when chunked
	watch    *clientWatch   // when set, stopped before the first byte of the response
	err      error
}

func newH1Response(c net.Conn, br *bufio.Reader, bw *bufio.Writer, req *http.Request) *h1Response {
	return &h1Response{
		c: c, br: br, bw: bw, head: req.Method == http.MethodHead, reqClose: req.Close, http11: req.ProtoAtLeast(1, 1),
		header: make(http.Header), length: -1,
	}
}

func (w *h1Response) Header() http.Header { return w.header }

// WriteHeader writes the status line and headers; 1xx codes other than 101 are interim
// responses written as they come.
func (w *h1Response) WriteHeader(code int) {
	if w.wroteHeader || w.hijacked {
		return
	}
	w.beforeWrite()
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		w.writeHead(code, w.header)
		w.err = errors.Join(w.err, w.bw.Flush())
		return
	}
	w.wroteHeader = true
	h := w.header
	w.bodyless = w.head || code == http.StatusNoContent || code == http.StatusNotModified
	if cl := h.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			w.length = n
		} else {
			h.Del("Content-Length")
		}
	}
	// ReadRequest set Close for "Connection: close", and for HTTP/1.0 without keep-alive.
	if httpguts.HeaderValuesContainsToken(h["Connection"], "close") || w.reqClose || (w.idle != nil && w.idle.isDraining()) {
		w.closeAfter = true
	}
	switch {
	case w.bodyless || w.length >= 0:
	case w.http11:
		h.Set("Transfer-Encoding", "chunked")
	default:
		w.closeAfter = true // the body ends when the connection does
	}
	h.Del("Connection")
	if w.closeAfter {
		h.Set("Connection", "close")
	} else if !w.http11 {
		h.Set("Connection", "keep-alive")
	}
	w.writeHead(code, withoutTrailers(h))
	if !w.bodyless && w.length < 0 && w.http11 {
		w.chunked = httputil.NewChunkedWriter(w.bw)
	}
}

// beforeWrite stops the client watch before the first byte of the response.
func (w *h1Response) beforeWrite() {
	if w.watch != nil {
		w.watch.stop()
	}
}

// writeHead writes a status line and h.
func (w *h1Response) writeHead(code int, h http.Header) {
	var buf [64]byte
	_, err := w.bw.Write(appendStatusLine(buf[:0], code))
	writeHeader(w.bw, h, nil) // a failed write sticks to bw, and the next one reports it
	w.err = errors.Join(w.err, err)
	_, err = w.bw.WriteString("\r\n")
	w.err = errors.Join(w.err, err)
}

// appendStatusLine appends the HTTP/1.1 status line of code, as fmt's "HTTP/1.1 %03d %s\r\n"
// with the status text (or "status code N") but without fmt's cost on every response.
func appendStatusLine(dst []byte, code int) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	if code >= 0 && code < 1000 {
		dst = append(dst, byte('0'+code/100), byte('0'+code/10%10), byte('0'+code%10))
	} else {
		dst = strconv.AppendInt(dst, int64(code), 10)
	}
	dst = append(dst, ' ')
	if text := http.StatusText(code); text != "" {
		dst = append(dst, text...)
	} else {
		dst = append(append(dst, "status code "...), strconv.Itoa(code)...)
	}
	return append(dst, "\r\n"...)
}

// withoutTrailers is h without the values to be sent as trailers (TrailerPrefix keys).
func withoutTrailers(h http.Header) http.Header {
	for k := range h {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			out := h.Clone()
			for k := range out {
				if strings.HasPrefix(k, http.TrailerPrefix) {
					delete(out, k)
				}
			}
			return out
		}
	}
	return h
}

func (w *h1Response) Write(p []byte) (int, error) {
	if w.hijacked {
		return 0, http.ErrHijacked
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.bodyless {
		return 0, http.ErrBodyNotAllowed
	}
	if w.length >= 0 && w.written+int64(len(p)) > w.length {
		return 0, http.ErrContentLength
	}
	var n int
	var err error
	if w.chunked != nil {
		n, err = w.chunked.Write(p)
	} else {
		n, err = w.bw.Write(p)
	}
	w.written += int64(n)
	w.err = err
	return n, err
}

// Flush sends what is buffered.
func (w *h1Response) Flush() {
	if w.hijacked {
		return
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err == nil {
		w.err = w.bw.Flush()
	}
}

// FlushError is Flush for http.ResponseController.
func (w *h1Response) FlushError() error {
	w.Flush()
	return w.err
}

// Hijack hands the connection over, with what the client sent ahead in br.
func (w *h1Response) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.hijacked || w.wroteHeader {
		return nil, nil, http.ErrHijacked
	}
	w.beforeWrite()
	w.hijacked = true
	return w.c, bufio.NewReadWriter(w.br, w.bw), nil
}

// finish ends the response: a handler that wrote nothing answers 200 with no body; a chunked
// body gets its last chunk and the trailers; a declared length not written in full closes
// the connection (the client sees a short body). Everything is flushed.
func (w *h1Response) finish() error {
	if w.hijacked {
		return nil
	}
	if !w.wroteHeader {
		if w.header.Get("Content-Length") == "" {
			w.header.Set("Content-Length", "0")
		}
		w.WriteHeader(http.StatusOK)
	}
	if w.chunked != nil && w.err == nil {
		w.err = w.chunked.Close() // the last chunk, "0\r\n"
		if w.err == nil {
			w.err = w.trailers().Write(w.bw)
		}
		if w.err == nil {
			_, w.err = w.bw.WriteString("\r\n")
		}
	}
	if w.length >= 0 && w.written < w.length && !w.bodyless {
		w.closeAfter = true
	}
	if w.err == nil {
		w.err = w.bw.Flush()
	}
	return w.err
}

// trailers are the values of the keys the header announced in Trailer, and of the keys
// with TrailerPrefix.
func (w *h1Response) trailers() http.Header {
	t := make(http.Header)
	for _, v := range w.header["Trailer"] {
		for _, k := range strings.Split(v, ",") {
			k = http.CanonicalHeaderKey(strings.TrimSpace(k))
			if vv, ok := w.header[k]; ok && k != "" {
				t[k] = vv
			}
		}
	}
	for k, vv := range w.header {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			t[http.CanonicalHeaderKey(strings.TrimPrefix(k, http.TrailerPrefix))] = vv
		}
	}
	return t
}
