package interop

import (
	"context"
	"io"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	istiohbone "istio.io/istio/pkg/hbone"

	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/hbone/identity"
)

// pair is one dialer and one server of the benchmarks, each meshfed's or Istio's; dial opens
// a tunnel to target through the server.
type pair struct {
	name string
	dial func(ctx context.Context, target netip.AddrPort) (net.Conn, error)
}

// pairs builds the four combinations over real TLS on loopback, each server letting callers
// reach targets.
func pairs(b *testing.B, targets ...netip.AddrPort) []pair {
	p := newPKI(b)
	server := p.material(b, "meshfed-waypoint", "west", "127.0.0.1")
	client := p.material(b, "meshfed-waypoint", "east")
	meshfedAddr := startMeshfedServer(b, identity.NewStaticSource(server), targets...)
	istioAddr := startIstioServer(b, p.istioServerTLS(server))
	md := newMeshfedDialer(b, identity.NewStaticSource(client))
	meshfedVia := func(addr string) func(context.Context, netip.AddrPort) (net.Conn, error) {
		peer := hbone.Peer{Address: addr, Identity: server.ID, Cluster: "west", Protocol: hbone.ProtocolH2}
		return func(ctx context.Context, target netip.AddrPort) (net.Conn, error) {
			return md.Dial(ctx, peer, target, hbone.Metadata{})
		}
	}
	istioVia := func(addr string) func(context.Context, netip.AddrPort) (net.Conn, error) {
		d := istiohbone.NewDialer(istiohbone.Config{ProxyAddress: addr, TLS: p.istioClientTLS(client)})
		return func(ctx context.Context, target netip.AddrPort) (net.Conn, error) {
			return d.DialContext(ctx, "tcp", target.String())
		}
	}
	return []pair{
		{"meshfed", meshfedVia(meshfedAddr)},
		{"istio", istioVia(istioAddr)},
		{"meshfed-dialer_istio-server", meshfedVia(istioAddr)},
		{"istio-dialer_meshfed-server", istioVia(meshfedAddr)},
	}
}

// BenchmarkTunnelSetup opens a tunnel on a warm connection, sends one byte, reads its echo
// and closes the tunnel: the cost of a new tunnel as an application sees it (Istio's server
// answers 200 before it dials the target, so the echo is what proves the tunnel works).
func BenchmarkTunnelSetup(b *testing.B) {
	target := upstream(b, func(c *net.TCPConn) { _, _ = io.Copy(c, c) })
	for _, p := range pairs(b, target) {
		b.Run(p.name, func(b *testing.B) {
			one := make([]byte, 1)
			roundTrip := func() {
				c, err := p.dial(b.Context(), target)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Write(one); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, one); err != nil {
					b.Fatal(err)
				}
				_ = c.Close()
			}
			roundTrip() // warm the connection
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				roundTrip()
			}
		})
	}
}

// chunk is the size of one write or read of the throughput benchmarks.
const chunk = 64 << 10

// BenchmarkThroughput sends (upload) or receives (download) one chunk per op through one
// tunnel; the upload stops the clock when the target has received every byte.
func BenchmarkThroughput(b *testing.B) {
	var received atomic.Int64
	sink := upstream(b, func(c *net.TCPConn) {
		buf := make([]byte, chunk)
		for {
			n, err := c.Read(buf)
			received.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
	source := upstream(b, func(c *net.TCPConn) {
		buf := make([]byte, chunk)
		for {
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	})
	for _, p := range pairs(b, sink, source) {
		b.Run(p.name+"/upload", func(b *testing.B) {
			c, err := p.dial(b.Context(), sink)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			buf := make([]byte, chunk)
			start := received.Load()
			b.SetBytes(chunk)
			b.ResetTimer()
			for b.Loop() {
				if _, err := c.Write(buf); err != nil {
					b.Fatal(err)
				}
			}
			want := start + int64(b.N)*chunk
			deadline := time.Now().Add(waitTimeout)
			for received.Load() < want {
				if time.Now().After(deadline) {
					b.Fatalf("target received %d of %d bytes", received.Load()-start, want-start)
				}
				time.Sleep(50 * time.Microsecond)
			}
		})
		b.Run(p.name+"/download", func(b *testing.B) {
			c, err := p.dial(b.Context(), source)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			buf := make([]byte, chunk)
			b.SetBytes(chunk)
			b.ResetTimer()
			for b.Loop() {
				if _, err := io.ReadFull(c, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
