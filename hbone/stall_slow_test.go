package hbone

import (
	"bytes"
	"crypto/rand"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// freezingProxy forwards TCP connections to a server and, while frozen, reads from neither
// side: a peer whose process is stuck while its kernel still acknowledges what arrives.
type freezingProxy struct {
	addr string

	mu     sync.Mutex
	thawed chan struct{} // closed while the proxy forwards
}

func startFreezingProxy(t *testing.T, to string) *freezingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezingProxy{addr: ln.Addr().String(), thawed: make(chan struct{})}
	close(p.thawed)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); p.thaw(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", to)
			if err != nil {
				c.Close()
				continue
			}
			wg.Go(func() { p.forward(up, c) })
			wg.Go(func() { p.forward(c, up) })
		}
	})
	return p
}

// forward copies from src to dst, waiting before each read while the proxy is frozen.
func (p *freezingProxy) forward(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		p.mu.Lock()
		gate := p.thawed
		p.mu.Unlock()
		<-gate
		n, err := src.Read(buf)
		if _, werr := dst.Write(buf[:n]); werr != nil || err != nil {
			return
		}
	}
}

func (p *freezingProxy) freeze() {
	p.mu.Lock()
	p.thawed = make(chan struct{})
	p.mu.Unlock()
}

func (p *freezingProxy) thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.thawed:
	default:
		close(p.thawed)
	}
}

// TestSlowPeerNotClosed: a peer that stops reading for ten times StallTimeout while a tunnel
// has megabytes to send is slow, not gone (its kernel acknowledges, then closes its window),
// so the stall watcher leaves the connection open and the tunnel delivers everything once
// the peer reads again.
func TestSlowPeerNotClosed(t *testing.T) {
	const stallTimeout = 300 * time.Millisecond
	pki := newTestPKI(t, testTrustDomain)
	ts := startServer(t, pki, serverConfig{noUDP: true})
	proxy := startFreezingProxy(t, ts.addr)
	target := upstream(t, echo)
	d := newTestDialer(t, pki.source(t, "ns1", "client"), func(o *Options) { o.StallTimeout = stallTimeout })
	peer := Peer{Address: proxy.addr, Identity: ts.id, Protocol: ProtocolH2}
	c, err := d.Dial(t.Context(), peer, target, Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, "before")

	proxy.freeze()
	payload := make([]byte, 8<<20)
	rand.Read(payload)
	wrote := make(chan error, 1)
	go func() {
		_, err := c.Write(payload)
		wrote <- err
	}()
	echoed := make(chan error, 1)
	got := make([]byte, len(payload))
	go func() {
		_, err := io.ReadFull(c, got)
		echoed <- err
	}()
	time.Sleep(10 * stallTimeout)
	select {
	case err := <-wrote:
		t.Fatalf("the write ended while the peer was frozen (%v): nothing waited on the connection", err)
	case err := <-echoed:
		t.Fatalf("the echo ended while the peer was frozen: %v", err)
	default:
	}
	d.pool.mu.Lock()
	watching := d.pool.watching
	d.pool.mu.Unlock()
	if ackSamplesSupported && !watching {
		t.Fatal("the stall watcher was not running while a tunnel had data in flight")
	}
	proxy.thaw()
	for _, ch := range []chan error{wrote, echoed} {
		select {
		case err := <-ch:
			if err != nil {
				t.Fatalf("the tunnel failed after the peer read again (the connection was closed as stalled?): %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the tunnel did not finish within 30s of the peer reading again")
		}
	}
	if !bytes.Equal(got, payload) {
		t.Fatal("the echo differs from what was sent")
	}
	again, err := d.Dial(t.Context(), peer, target, Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again.LocalAddr().String() != c.LocalAddr().String() {
		t.Fatalf("a new tunnel runs on connection %s, want the first one %s", again.LocalAddr(), c.LocalAddr())
	}
}
