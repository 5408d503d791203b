package waypoint

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/meshfed/meshfed/waypoint/http1"
)

// FuzzHTTP1ClientSide feeds arbitrary bytes to the HTTP/1.1 client side of a per-request
// port that has no endpoint. Whatever comes in, the connection ends by itself once the
// client has sent everything and half-closed, and everything written back is a sequence of
// well-formed HTTP/1.1 responses.
func FuzzHTTP1ClientSide(f *testing.F) {
	for _, seed := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
		"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi",
		"GET / HTTP/1.0\r\n\r\n",
		"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
		"\r\n\r\n", "G", "GET / HTTP/9.9\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	table := NewTable(Options{Namespace: "shop", Cluster: "east", Logger: slog.New(slog.DiscardHandler)})
	o := NewOutbound(table, Options{Namespace: "shop", Cluster: "east", Logger: slog.New(slog.DiscardHandler)})
	o.lingerDelay = 20 * time.Millisecond
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 4096 {
			return
		}
		client, server := tcpPair(t)
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer server.Close()
			o.serveHTTP(t.Context(), server, 1)
		}()
		go func() {
			_, _ = client.Write(in)
			_ = client.(*net.TCPConn).CloseWrite()
		}()
		_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
		out, err := io.ReadAll(client)
		if err != nil && !http1.ClosedByPeer(err) {
			t.Fatalf("reading what the waypoint wrote: %v", err)
		}
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("the connection did not end after the client half-closed")
		}
		br := bufio.NewReader(bytes.NewReader(out))
		for br.Buffered() > 0 || len(out) > 0 {
			if _, err := br.Peek(1); err == io.EOF {
				break
			}
			resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
			if err != nil {
				t.Fatalf("malformed response in %q: %v", out, err)
			}
			if _, err := io.Copy(io.Discard, resp.Body); err != nil {
				t.Fatalf("malformed response body in %q: %v", out, err)
			}
		}
	})
}

// tcpPair is a connected pair of loopback TCP connections.
func tcpPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close(); _ = server.Close() })
	return client, server
}
