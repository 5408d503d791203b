package hbone

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/meshfed/meshfed/hbone/identity"
)

// BenchmarkProtoH2 is a minimal HTTP/2 CONNECT exchange on x/net/http2's Framer over the
// same TLS 1.3 setup as BenchmarkFloorH2: the client writes HEADERS from the caller's
// goroutine under a write mutex, one reader goroutine per connection on each side, and
// the server runs the upstream dial in a goroutine that writes the 200 itself. It bounds
// what a Framer-based implementation could reach; it is not a complete HTTP/2 peer.
func BenchmarkProtoH2(b *testing.B) {
	pki := newTestPKI(b, testTrustDomain)
	target := upstream(b, func(c *net.TCPConn) { _ = c.Close() })
	for _, tc := range []struct {
		name string
		dial upstreamDial
	}{
		{"bare", nil},
		{"dial", dialNet(0)},
		{"dial-nokeepalive", dialNet(-1)},
		{"dial-raw", dialRaw},
	} {
		b.Run(tc.name, func(b *testing.B) {
			addr := startProtoServer(b, pki, tc.dial)
			pc := dialProtoClient(b, pki, addr)
			b.ReportAllocs()
			for b.Loop() {
				id, err := pc.connect(target.String())
				if err != nil {
					b.Fatal(err)
				}
				pc.reset(id)
			}
		})
	}
}

// BenchmarkUpstreamDial compares ways of dialing the upstream: connect, accept, close.
func BenchmarkUpstreamDial(b *testing.B) {
	target := upstream(b, func(c *net.TCPConn) { _ = c.Close() })
	for _, tc := range []struct {
		name string
		dial upstreamDial
	}{
		{"net", dialNet(0)},
		{"net-nokeepalive", dialNet(-1)},
		{"raw", dialRaw},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c, err := tc.dial(b.Context(), target)
				if err != nil {
					b.Fatal(err)
				}
				_ = c.Close()
			}
		})
	}
}

type upstreamDial func(ctx context.Context, target netip.AddrPort) (io.Closer, error)

func dialNet(keepAlive time.Duration) upstreamDial {
	return func(ctx context.Context, target netip.AddrPort) (io.Closer, error) {
		d := net.Dialer{KeepAlive: keepAlive}
		return d.DialContext(ctx, "tcp", target.String())
	}
}

// dialRaw connects a blocking socket (loopback completes the handshake inside connect),
// sets TCP_NODELAY, then hands the descriptor to the runtime poller as an *os.File. It is a
// measurement only: a blocking connect ignores ctx and holds an OS thread.
func dialRaw(_ context.Context, target netip.AddrPort) (io.Closer, error) {
	if !target.Addr().Is4() {
		return nil, errors.New("dialRaw: IPv4 only")
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	sa := &syscall.SockaddrInet4{Port: int(target.Port()), Addr: target.Addr().As4()}
	if err := syscall.Connect(fd, sa); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "upstream"), nil
}

// protoServer serves the prototype: settings exchange, then CONNECT → dial → 200.
func startProtoServer(b *testing.B, pki *testPKI, dial upstreamDial) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	conf := identity.ServerConfig(pki.source(b, "ns1", "waypoint"), []string{"h2"})
	var wg sync.WaitGroup
	b.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { serveProto(tls.Server(c, conf), dial) })
		}
	})
	return ln.Addr().String()
}

type protoConn struct {
	wmu  sync.Mutex
	fr   *http2.Framer
	henc *hpack.Encoder
	hbuf bytes.Buffer
	c    net.Conn
}

func newProtoConn(c net.Conn) *protoConn {
	pc := &protoConn{c: c}
	pc.fr = http2.NewFramer(c, bufio.NewReaderSize(c, 16<<10))
	pc.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	pc.henc = hpack.NewEncoder(&pc.hbuf)
	return pc
}

// ackSettings acknowledges the peer's SETTINGS (not its acknowledgements of ours).
func (pc *protoConn) ackSettings(f *http2.SettingsFrame) {
	if f.IsAck() {
		return
	}
	pc.wmu.Lock()
	_ = pc.fr.WriteSettingsAck()
	pc.wmu.Unlock()
}

// writeHeaders encodes fields and writes one HEADERS frame; the caller holds wmu.
func (pc *protoConn) writeHeaders(id uint32, fields ...hpack.HeaderField) error {
	pc.hbuf.Reset()
	for _, f := range fields {
		_ = pc.henc.WriteField(f)
	}
	return pc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: pc.hbuf.Bytes(), EndHeaders: true})
}

func serveProto(c *tls.Conn, dial upstreamDial) {
	defer c.Close()
	if err := c.Handshake(); err != nil {
		return
	}
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(c, preface); err != nil || string(preface) != http2.ClientPreface {
		return
	}
	pc := newProtoConn(c)
	pc.wmu.Lock()
	err := pc.fr.WriteSettings()
	pc.wmu.Unlock()
	if err != nil {
		return
	}
	var mu sync.Mutex
	ups := map[uint32]io.Closer{}
	for {
		f, err := pc.fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			pc.ackSettings(f)
		case *http2.MetaHeadersFrame:
			id, authority := f.StreamID, f.PseudoValue("authority")
			go func() {
				status := "200"
				if dial != nil {
					up, err := dial(context.Background(), netip.MustParseAddrPort(authority))
					if err != nil {
						status = "503"
					} else {
						mu.Lock()
						ups[id] = up
						mu.Unlock()
					}
				}
				pc.wmu.Lock()
				_ = pc.writeHeaders(id, hpack.HeaderField{Name: ":status", Value: status})
				pc.wmu.Unlock()
			}()
		case *http2.RSTStreamFrame:
			mu.Lock()
			up := ups[f.StreamID]
			delete(ups, f.StreamID)
			mu.Unlock()
			if up != nil {
				_ = up.Close()
			}
		}
	}
}

// protoClient is the client side: one reader goroutine delivers response HEADERS to the
// waiting caller.
type protoClient struct {
	*protoConn
	next    uint32
	mu      sync.Mutex
	waiters map[uint32]chan string
}

func dialProtoClient(b *testing.B, pki *testPKI, addr string) *protoClient {
	b.Helper()
	conf := identity.ClientConfig(pki.source(b, "ns1", "client"), identity.Workload{}, []string{"h2"})
	c, err := tls.Dial("tcp", addr, conf)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		b.Fatal(err)
	}
	pc := &protoClient{protoConn: newProtoConn(c), next: 1, waiters: map[uint32]chan string{}}
	if err := pc.fr.WriteSettings(); err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	b.Cleanup(func() { _ = c.Close(); <-done })
	go func() { defer close(done); pc.readLoop() }()
	return pc
}

func (pc *protoClient) readLoop() {
	for {
		f, err := pc.fr.ReadFrame()
		if err != nil {
			pc.mu.Lock()
			for id, ch := range pc.waiters {
				close(ch)
				delete(pc.waiters, id)
			}
			pc.mu.Unlock()
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			pc.ackSettings(f)
		case *http2.MetaHeadersFrame:
			pc.mu.Lock()
			ch := pc.waiters[f.StreamID]
			delete(pc.waiters, f.StreamID)
			pc.mu.Unlock()
			if ch != nil {
				ch <- f.PseudoValue("status")
			}
		}
	}
}

// connect opens one stream and waits for its status.
func (pc *protoClient) connect(authority string) (uint32, error) {
	ch := make(chan string, 1)
	pc.wmu.Lock()
	id := pc.next
	pc.next += 2
	pc.mu.Lock()
	pc.waiters[id] = ch
	pc.mu.Unlock()
	err := pc.writeHeaders(id,
		hpack.HeaderField{Name: ":method", Value: "CONNECT"},
		hpack.HeaderField{Name: ":authority", Value: authority},
		hpack.HeaderField{Name: "baggage", Value: "k8s.cluster.name=c1,k8s.namespace.name=ns1,cloud.network=n1"})
	pc.wmu.Unlock()
	if err != nil {
		return 0, err
	}
	status, ok := <-ch
	if !ok {
		return 0, net.ErrClosed
	}
	if status != "200" {
		return id, errors.New("status " + status)
	}
	return id, nil
}

func (pc *protoClient) reset(id uint32) {
	pc.wmu.Lock()
	_ = pc.fr.WriteRSTStream(id, http2.ErrCodeCancel)
	pc.wmu.Unlock()
}
