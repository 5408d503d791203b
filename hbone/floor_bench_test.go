package hbone

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"testing"

	"github.com/meshfed/meshfed/hbone/identity"
)

// BenchmarkFloorH2 measures what BenchmarkDialPooled/h2 cannot go below: a CONNECT round trip
// on a warm net/http HTTP/2 connection over the same TLS 1.3 setup, without any hbone code.
// "bare" answers 200 at once; "dial" first dials the upstream with a plain net.Dialer, as
// the hooks of the tests, meshfed-bench and the waypoint do; "tcp" is that upstream dial
// alone (connect, accept, close).
func BenchmarkFloorH2(b *testing.B) {
	pki := newTestPKI(b, testTrustDomain)
	target := upstream(b, func(c *net.TCPConn) { _ = c.Close() })
	for _, tc := range []struct {
		name string
		dial func(ctx context.Context, target netip.AddrPort) (net.Conn, error)
	}{
		{"bare", nil},
		{"dial", func(ctx context.Context, target netip.AddrPort) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", target.String())
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			addr := startFloorServer(b, pki, func(w http.ResponseWriter, r *http.Request) {
				var up net.Conn
				if tc.dial != nil {
					var err error
					if up, err = tc.dial(r.Context(), netip.MustParseAddrPort(r.Host)); err != nil {
						w.WriteHeader(http.StatusServiceUnavailable)
						return
					}
					defer up.Close()
				}
				w.WriteHeader(http.StatusOK)
				_ = http.NewResponseController(w).Flush()
				_, _ = io.Copy(io.Discard, r.Body)
			})
			cc := floorClientConn(b, pki, addr)
			b.ReportAllocs()
			for b.Loop() {
				pr, pw := io.Pipe()
				req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Host: target.String()}, Host: target.String(), Header: http.Header{}, Body: pr}
				resp, err := cc.RoundTrip(req.WithContext(b.Context()))
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatal(resp, err)
				}
				pw.CloseWithError(net.ErrClosed)
				_ = resp.Body.Close()
			}
		})
	}
	for _, tc := range []struct {
		name string
		dial func(ctx context.Context) (net.Conn, error)
	}{
		{"tcp", func(ctx context.Context) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", target.String())
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c, err := tc.dial(b.Context())
				if err != nil {
					b.Fatal(err)
				}
				_ = c.Close()
			}
		})
	}
}

func startFloorServer(b *testing.B, pki *testPKI, h http.HandlerFunc) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP2(true)
	srv := &http.Server{Handler: h, Protocols: protocols}
	tlsLn := tls.NewListener(ln, identity.ServerConfig(pki.source(b, "ns1", "waypoint"), []string{"h2"}))
	go func() { _ = srv.Serve(tlsLn) }()
	b.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

func floorClientConn(b *testing.B, pki *testPKI, addr string) *http.ClientConn {
	b.Helper()
	protocols := new(http.Protocols)
	protocols.SetHTTP2(true)
	conf := identity.ClientConfig(pki.source(b, "ns1", "client"), identity.Workload{}, []string{"h2"})
	tr := &http.Transport{
		Protocols: protocols,
		DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			d := tls.Dialer{Config: conf}
			return d.DialContext(ctx, network, addr)
		},
	}
	b.Cleanup(tr.CloseIdleConnections)
	cc, err := tr.NewClientConn(b.Context(), "https", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cc.Close() })
	return cc
}
