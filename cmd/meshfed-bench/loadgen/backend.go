package loadgen

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Payload is the body of every request and every response.
var Payload = make([]byte, 1024)

// Backend is an HTTP/1.1 keep-alive server that reads the request body and answers 200 with
// Payload.
type Backend struct {
	// Addr is the host:port it listens on.
	Addr string
	port int32
	srv  *http.Server
	done chan struct{}
}

// StartBackend serves on ip at a free port until Close.
func StartBackend(ip string) (*Backend, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return nil, fmt.Errorf("failed to listen for a backend on %s: %w", ip, err)
	}
	p := new(http.Protocols)
	p.SetHTTP1(true)
	b := &Backend{
		Addr: l.Addr().String(),
		port: int32(l.Addr().(*net.TCPAddr).Port),
		srv:  &http.Server{Handler: http.HandlerFunc(serveBackend), Protocols: p, ReadHeaderTimeout: 10 * time.Second},
		done: make(chan struct{}),
	}
	go func() { _ = b.srv.Serve(l); close(b.done) }()
	return b, nil
}

// Port is the port of Addr.
func (b *Backend) Port() int32 { return b.port }

// Close stops the server and its connections.
func (b *Backend) Close() {
	_ = b.srv.Close()
	<-b.done
}

func serveBackend(w http.ResponseWriter, r *http.Request) {
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(Payload)))
	_, _ = w.Write(Payload)
}
