package http1

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
)

// MaxReplayBody is the largest request body the waypoint holds in memory so that a request
// can be retried, and the largest error response it holds while retrying.
const MaxReplayBody = 64 << 10

// ReplayBody is a request body as the tries of one request send it. A body of known length up
// to MaxReplayBody is read first and sent again by every try; any other body (larger, or of
// unknown length: chunked uploads, gRPC streams) streams through once, and can only be sent by a
// second try if the first took no byte of it (a connect failure).
type ReplayBody struct {
	buf    []byte // the whole body, when buffered (nil and !stream: empty)
	stream *countingReader
}

// noBody is every empty request's ReplayBody, which nothing changes.
var noBody ReplayBody

// NewReplayBody reads req's body when it is small and of known length.
func NewReplayBody(req *http.Request) (*ReplayBody, error) {
	switch {
	case req.Body == nil || req.Body == http.NoBody:
		return &noBody, nil
	case req.ContentLength < 0 || req.ContentLength > MaxReplayBody:
		return &ReplayBody{stream: &countingReader{r: req.Body}}, nil
	}
	buf := make([]byte, req.ContentLength)
	if _, err := io.ReadFull(req.Body, buf); err != nil {
		return nil, fmt.Errorf("failed to read request body of %d bytes: %w", req.ContentLength, err)
	}
	return &ReplayBody{buf: buf}, nil
}

// Replayable reports whether every try can send the whole body.
func (b *ReplayBody) Replayable() bool { return b.stream == nil }

// Resendable reports whether another try can send the whole body: it is replayable, or no
// byte of the stream has been taken yet.
func (b *ReplayBody) Resendable() bool { return b.stream == nil || b.stream.n.Load() == 0 }

// Open returns the body and GetBody for one try.
func (b *ReplayBody) Open() (io.ReadCloser, func() (io.ReadCloser, error)) {
	switch {
	case b.stream != nil:
		return io.NopCloser(b.stream), nil // the server closes the client's body
	case len(b.buf) == 0:
		return http.NoBody, func() (io.ReadCloser, error) { return http.NoBody, nil }
	}
	get := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b.buf)), nil }
	body, _ := get()
	return body, get
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// tryBody is the response body of a try; done runs once when it is closed.
type tryBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *tryBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}

// NewTryBody wraps body so that done runs once when it is closed. The body of a 101
// (protocol upgrade) is the connection itself and stays writable, as ReverseProxy needs.
func NewTryBody(body io.ReadCloser, done func()) io.ReadCloser {
	tb := &tryBody{ReadCloser: body, done: done}
	if rw, ok := body.(io.ReadWriteCloser); ok {
		return &tryConnBody{tryBody: tb, w: rw}
	}
	return tb
}

// tryConnBody is a tryBody that can be written to.
type tryConnBody struct {
	*tryBody
	w io.Writer
}

func (b *tryConnBody) Write(p []byte) (int, error) { return b.w.Write(p) }

// BufferResponse reads a response of at most MaxReplayBody bytes into memory and closes its
// body, so that its connection is free while another try runs. It returns false, leaving resp
// untouched, when the body is larger or of unknown length.
func BufferResponse(resp *http.Response) (*http.Response, bool) {
	if resp.ContentLength < 0 || resp.ContentLength > MaxReplayBody {
		return nil, false
	}
	buf, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		buf = nil // a body cut short is dropped; the status and headers still say what happened
	}
	out := *resp
	out.Body = io.NopCloser(bytes.NewReader(buf))
	out.ContentLength = int64(len(buf))
	out.Header.Set("Content-Length", strconv.Itoa(len(buf)))
	return &out, true
}
