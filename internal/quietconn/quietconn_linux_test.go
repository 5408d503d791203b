package quietconn

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// quietPair is a loopback TCP connection: the quiet side and the plain peer.
func quietPair(t *testing.T) (net.Conn, *net.TCPConn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer := <-accepted
	if peer == nil {
		t.Fatal("accept failed")
	}
	q := New(c)
	if _, ok := q.(*conn); !ok {
		t.Fatalf("New(%T) = %T, want *conn", c, q)
	}
	t.Cleanup(func() { _ = q.Close(); _ = peer.Close() })
	return q, peer.(*net.TCPConn)
}

// TestQuietConnCopiesBothWays: a payload far larger than the socket buffers crosses in both
// directions (writes that meet EAGAIN wait and resume), and the peer's close reads as io.EOF.
func TestQuietConnCopiesBothWays(t *testing.T) {
	q, peer := quietPair(t)
	payload := bytes.Repeat([]byte("meshfed-"), 1<<20) // 8 MiB
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(peer)
		got <- b
	}()
	if n, err := q.Write(payload); err != nil || n != len(payload) {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(payload))
	}
	_ = q.(*conn).CloseWrite()
	if b := <-got; !bytes.Equal(b, payload) {
		t.Fatalf("peer read %d bytes, want the %d written", len(b), len(payload))
	}
	go func() { _, _ = peer.Write(payload); _ = peer.Close() }()
	b, err := io.ReadAll(q) // ReadAll stops at io.EOF, not wrapped
	if err != nil || !bytes.Equal(b, payload) {
		t.Fatalf("ReadAll = %d bytes, %v; want %d, nil", len(b), err, len(payload))
	}
	if n, err := q.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("Read after EOF = %d, %v; want 0, io.EOF", n, err)
	}
}

// TestQuietConnErrors: a deadline, a local close and a reset read as the same errors as a
// plain net.Conn's, which the waypoint's callers test for.
func TestQuietConnErrors(t *testing.T) {
	q, _ := quietPair(t)
	_ = q.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, err := q.Read(make([]byte, 1))
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Read past the deadline: %v, want a timeout", err)
	}
	_ = q.SetReadDeadline(time.Time{})

	// A blocked Read ends when the connection is closed.
	done := make(chan error, 1)
	go func() {
		_, err := q.Read(make([]byte, 1))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	_ = q.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Read interrupted by Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read did not return after Close")
	}
	if _, err := q.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write after Close: %v, want net.ErrClosed", err)
	}

	// Writing to a peer that reset the connection fails, with the errno.
	q2, peer2 := quietPair(t)
	_ = peer2.SetLinger(0)
	_ = peer2.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := q2.Write(make([]byte, 64<<10))
		if err != nil {
			var oe *net.OpError
			if !errors.As(err, &oe) || oe.Op != "write" {
				t.Fatalf("Write to a reset peer: %v, want a *net.OpError of write", err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Write to a reset peer kept succeeding")
		}
	}
}

// TestNewQuietConnLeavesOthers: a connection that is not TCP is returned as it is.
func TestNewQuietConnLeavesOthers(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if got := New(a); got != a {
		t.Fatalf("New(pipe) = %T, want the pipe itself", got)
	}
}

// TestQuietConnReadWriteDoNotAllocate: a Read and a Write of data already there allocate
// nothing; a waypoint makes about four of each per request.
func TestQuietConnReadWriteDoNotAllocate(t *testing.T) {
	q, peer := quietPair(t)
	out, in := []byte("ping"), make([]byte, 4)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := peer.Write(out); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(q, in); err != nil {
			t.Fatal(err)
		}
		if _, err := q.Write(out); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(peer, in); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("a Read and a Write allocate %.1f times, want 0", allocs)
	}
}
