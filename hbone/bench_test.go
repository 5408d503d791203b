package hbone

import (
	"net"
	"testing"
)

// BenchmarkDialPooled opens and closes a tunnel on a warm pool: the CONNECT round trip, the
// server's hook dialing the upstream, and the 200.
func BenchmarkDialPooled(b *testing.B) {
	pki := newTestPKI(b, testTrustDomain)
	ts := startServer(b, pki, serverConfig{})
	target := upstream(b, func(c *net.TCPConn) { _ = c.Close() })
	for _, p := range protocols {
		b.Run(p.String(), func(b *testing.B) {
			d := newTestDialer(b, pki.source(b, "ns1", "client"), nil)
			warm, err := d.Dial(b.Context(), peerOf(ts, p), target, Metadata{})
			if err != nil {
				b.Fatal(err)
			}
			_ = warm.Close()
			b.ReportAllocs()
			for b.Loop() {
				c, err := d.Dial(b.Context(), peerOf(ts, p), target, Metadata{})
				if err != nil {
					b.Fatal(err)
				}
				_ = c.Close()
			}
		})
	}
}
