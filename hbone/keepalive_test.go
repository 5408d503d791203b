//go:build linux

package hbone

import (
	"context"
	"io"
	"net"
	"syscall"
	"testing"
)

// TestDialUpstreamKeepAlive checks that an upstream from DialUpstream, dialed without TCP
// keepalive, has it on once the tunnel is established, over both transports.
func TestDialUpstreamKeepAlive(t *testing.T) {
	pki := newTestPKI(t, testTrustDomain)
	ups := make(chan net.Conn, 1)
	ts := startServer(t, pki, serverConfig{handler: HandlerFunc(func(ctx context.Context, req *Request) (net.Conn, error) {
		c, err := DialUpstream(ctx, req.Target)
		if err == nil {
			if keepAliveOn(t, c) {
				t.Error("DialUpstream enabled keepalive before the 200")
			}
			ups <- c
		}
		return c, err
	})})
	target := upstream(t, echo)
	d := newTestDialer(t, pki.source(t, "ns1", "client"), nil)
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			c, err := d.Dial(t.Context(), peerOf(ts, p), target, Metadata{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// One echoed byte proves the splice runs, which starts after keepalive is set.
			if _, err := c.Write([]byte{1}); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
				t.Fatal(err)
			}
			if up := <-ups; !keepAliveOn(t, up) {
				t.Error("upstream keepalive is off after the 200")
			}
		})
	}
}

func keepAliveOn(t *testing.T, c net.Conn) bool {
	t.Helper()
	rc, err := c.(*upstreamConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var on int
	var serr error
	if err := rc.Control(func(fd uintptr) { on, serr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE) }); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatal(serr)
	}
	return on != 0
}
