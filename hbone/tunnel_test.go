package hbone

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

func TestEcho(t *testing.T) {
	pki := newTestPKI(t, testTrustDomain)
	ts := startServer(t, pki, serverConfig{})
	target := upstream(t, echo)
	d := newTestDialer(t, pki.source(t, "ns1", "client"), nil)
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			c, err := d.Dial(t.Context(), peerOf(ts, p), target, Metadata{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.Protocol() != p {
				t.Fatalf("Protocol() = %s, want %s", c.Protocol(), p)
			}
			msg := []byte("hello through " + p.String())
			if _, err := c.Write(msg); err != nil {
				t.Fatal(err)
			}
			if err := c.CloseWrite(); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(c)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("echo = %q, %v; want %q", got, err, msg)
			}
		})
	}
}

// TestTransfer1GiB uploads 1 GiB through each transport to an upstream that hashes it and
// answers with the digest after the client's FIN.
func TestTransfer1GiB(t *testing.T) {
	if testing.Short() {
		t.Skip("the 1 GiB transfers run in make test-all (CI), not in the -short daily loop")
	}
	const size = 1 << 30
	pki := newTestPKI(t, testTrustDomain)
	ts := startServer(t, pki, serverConfig{})
	target := upstream(t, func(c *net.TCPConn) {
		h := sha256.New()
		if _, err := io.Copy(h, c); err != nil {
			return
		}
		c.Write(h.Sum(nil))
	})
	d := newTestDialer(t, pki.source(t, "ns1", "client"), nil)
	block := make([]byte, 1<<20)
	rand.NewChaCha8([32]byte{1}).Read(block)
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			c, err := d.Dial(t.Context(), peerOf(ts, p), target, Metadata{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			h := sha256.New()
			for i := 0; i < size/len(block); i++ {
				block[0] = byte(i)
				h.Write(block)
				if _, err := c.Write(block); err != nil {
					t.Fatalf("write at block %d: %v", i, err)
				}
			}
			if err := c.CloseWrite(); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(c)
			if err != nil {
				t.Fatal(err)
			}
			if want := h.Sum(nil); !bytes.Equal(got, want) {
				t.Fatalf("upstream digest %x, want %x", got, want)
			}
			t.Logf("%s: 1 GiB in %v (%.0f MiB/s)", p, time.Since(start), size/(1<<20)/time.Since(start).Seconds())
		})
	}
}

func TestHalfClose(t *testing.T) {
	pki := newTestPKI(t, testTrustDomain)
	ts := startServer(t, pki, serverConfig{})
	// The upstream reads until FIN, then answers and closes.
	fin := make(chan []byte, 1)
	replyAfterFIN := upstream(t, func(c *net.TCPConn) {
		got, err := io.ReadAll(c)
		if err != nil {
			return
		}
		fin <- got
		c.Write([]byte("pong"))
	})
	// The upstream speaks first and closes without reading.
	closer := upstream(t, func(c *net.TCPConn) { c.Write([]byte("bye")) })
	d := newTestDialer(t, pki.source(t, "ns1", "client"), nil)
	for _, p := range protocols {
		t.Run(p.String()+"/client FIN", func(t *testing.T) {
			c, err := d.Dial(t.Context(), peerOf(ts, p), replyAfterFIN, Metadata{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.Write([]byte("ping"))
			c.CloseWrite()
			select {
			case got := <-fin:
				if string(got) != "ping" {
					t.Fatalf("upstream read %q before FIN", got)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("upstream did not see FIN")
			}
			reply, err := io.ReadAll(c)
			if err != nil || string(reply) != "pong" {
				t.Fatalf("reply after FIN = %q, %v", reply, err)
			}
		})
		t.Run(p.String()+"/upstream close", func(t *testing.T) {
			c, err := d.Dial(t.Context(), peerOf(ts, p), closer, Metadata{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			got, err := readAllWithin(c, 5*time.Second)
			if err != nil || string(got) != "bye" {
				t.Fatalf("read = %q, %v; want bye then EOF", got, err)
			}
		})
	}
}

// readAllWithin is io.ReadAll that fails instead of blocking past d.
func readAllWithin(r io.Reader, d time.Duration) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() { b, err := io.ReadAll(r); ch <- result{b, err} }()
	select {
	case res := <-ch:
		return res.b, res.err
	case <-time.After(d):
		return nil, io.ErrNoProgress
	}
}

// TestServiceTarget tunnels to a service by name: a server that accepts service targets hands
// the handler the name and port, one that does not refuses the CONNECT as a bad authority
// before its handler sees it.
func TestServiceTarget(t *testing.T) {
	pki := newTestPKI(t, testTrustDomain)
	target := upstream(t, echo)
	var seen atomic.Pointer[Request]
	handler := HandlerFunc(func(ctx context.Context, req *Request) (net.Conn, error) {
		seen.Store(req)
		if req.Service != "api.shop.svc.clusterset.local" {
			return nil, Deny(ReasonDenied)
		}
		var d net.Dialer
		return d.DialContext(ctx, "tcp", netip.AddrPortFrom(target.Addr(), target.Port()).String())
	})
	accepting := startServer(t, pki, serverConfig{handler: handler, services: true})
	refusing := startServer(t, pki, serverConfig{handler: handler})
	d := newTestDialer(t, pki.source(t, "ns1", "client"), nil)
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			seen.Store(nil)
			c, err := d.DialService(t.Context(), peerOf(accepting, p), "api.shop.svc.clusterset.local", target.Port(), Metadata{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Write([]byte("hi")); err != nil {
				t.Fatal(err)
			}
			_ = c.CloseWrite()
			if got, err := io.ReadAll(c); err != nil || string(got) != "hi" {
				t.Fatalf("echo = %q, %v", got, err)
			}
			req := seen.Load()
			if req == nil || req.Target.Addr().IsValid() || req.Target.Port() != target.Port() {
				t.Fatalf("handler saw %+v, want the service port %d and no address", req, target.Port())
			}
			_, err = d.DialService(t.Context(), peerOf(accepting, p), "other.shop.svc.clusterset.local", target.Port(), Metadata{})
			if e := mustKind(t, err, KindRefused); e.Status != 403 || e.Reason != ReasonDenied {
				t.Fatalf("other service: reason %q, want %q", e.Reason, ReasonDenied)
			}
			seen.Store(nil)
			_, err = d.DialService(t.Context(), peerOf(refusing, p), "api.shop.svc.clusterset.local", target.Port(), Metadata{})
			if e := mustKind(t, err, KindRefused); e.Status != 400 || e.Reason != ReasonBadAuthority || seen.Load() != nil {
				t.Fatalf("server without service targets: reason %q, handler saw %v; want %q and nothing", e.Reason, seen.Load(), ReasonBadAuthority)
			}
		})
	}
}
