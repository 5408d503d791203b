package hbone

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/meshfed/meshfed/hbone/identity"
)

func TestRefusals(t *testing.T) {
	pki := newTestPKI(t, testTrustDomain)
	// The refused target's connect fails at once; the upstream timeout is long, so that a
	// loaded machine that holds the hook cannot turn that failure into upstream-timeout.
	ts := startServer(t, pki, serverConfig{limits: Limits{UpstreamTimeout: waitTimeout}})
	target := upstream(t, echo)
	closedPort := refusedPort(t)
	otherCA := newTestPKI(t, testTrustDomain)
	wrongID, _ := identity.WorkloadID(testTrustDomain, "ns1", "someone-else")
	client := pki.source(t, "ns1", "client")

	tests := []struct {
		name       string
		source     identity.Source
		peerID     identity.ID
		target     netip.AddrPort
		wantKind   Kind
		wantStatus int
		wantReason string
		within     time.Duration
	}{
		{name: "wrong server identity", source: client, peerID: wrongID, target: target, wantKind: KindIdentity},
		{name: "client cert from another CA", source: otherCA.source(t, "ns1", "client"), peerID: ts.id, target: target, wantKind: KindIdentity},
		{name: "hook denies", source: client, peerID: ts.id, target: netip.MustParseAddrPort("10.0.0.1:80"), wantKind: KindRefused, wantStatus: 403, wantReason: ReasonDenied},
		{name: "target unreachable", source: client, peerID: ts.id, target: closedPort, wantKind: KindUnavailable, wantStatus: 503, wantReason: ReasonUpstreamUnreachable, within: waitTimeout / 2},
	}
	for _, p := range protocols {
		for _, tt := range tests {
			t.Run(p.String()+"/"+tt.name, func(t *testing.T) {
				d := newTestDialer(t, tt.source, nil)
				dialsBefore := ts.dials.Load()
				start := time.Now()
				peer := Peer{Address: ts.addr, Identity: tt.peerID, Protocol: p}
				if p == ProtocolH3 {
					peer.Protocol = ProtocolH3Only
				}
				c, err := d.Dial(t.Context(), peer, tt.target, Metadata{})
				if err == nil {
					c.Close()
					t.Fatal("tunnel opened, want refusal")
				}
				e := mustKind(t, err, tt.wantKind)
				if e.Status != tt.wantStatus || e.Reason != tt.wantReason {
					t.Fatalf("status %d reason %q, want %d %q", e.Status, e.Reason, tt.wantStatus, tt.wantReason)
				}
				if tt.within > 0 && time.Since(start) > tt.within {
					t.Fatalf("refusal took %v, want within %v", time.Since(start), tt.within)
				}
				if tt.wantStatus == 403 && ts.dials.Load() != dialsBefore {
					t.Fatal("hook dialed although it denied")
				}
			})
		}
	}
}

// TestUpstreamTimeout checks that a hook that does not decide in time is answered 503, at
// the server's UpstreamTimeout (200 ms): before the default's 5 s would have passed, a bound
// that only a machine stalled for seconds could miss.
func TestUpstreamTimeout(t *testing.T) {
	pki := newTestPKI(t, testTrustDomain)
	hang := HandlerFunc(func(ctx context.Context, _ *Request) (net.Conn, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	ts := startServer(t, pki, serverConfig{handler: hang, limits: Limits{UpstreamTimeout: 200 * time.Millisecond}})
	d := newTestDialer(t, pki.source(t, "ns1", "client"), nil)
	for _, p := range protocols {
		start := time.Now()
		_, err := d.Dial(t.Context(), peerOf(ts, p), netip.MustParseAddrPort("127.0.0.1:9"), Metadata{})
		e := mustKind(t, err, KindUnavailable)
		if took := time.Since(start); e.Status != 503 || e.Reason != ReasonUpstreamTimeout || took >= DefaultUpstreamTimeout {
			t.Fatalf("%s: %v after %v, want 503 %s before the default %s", p, err, took, ReasonUpstreamTimeout, DefaultUpstreamTimeout)
		}
	}
}

// TestMalformedAuthority sends CONNECT requests with authorities a Dialer never produces.
func TestMalformedAuthority(t *testing.T) {
	pki := newTestPKI(t, testTrustDomain)
	ts := startServer(t, pki, serverConfig{})
	src := pki.source(t, "ns1", "client")
	for _, authority := range []string{"example.com:80", "10.0.0.1", "10.0.0.1:0", "0.0.0.0:80", "[fe80::1%eth0]:80", "10.0.0.1:99999"} {
		t.Run(authority, func(t *testing.T) {
			resp, err := rawConnectH2(t.Context(), ts.addr, src, authority, nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get(ReasonHeader) != ReasonBadAuthority {
				t.Fatalf("answer %d %q, want 400 %s", resp.StatusCode, resp.Header.Get(ReasonHeader), ReasonBadAuthority)
			}
		})
	}
	if ts.dials.Load()+ts.denied.Load() != 0 {
		t.Fatal("hook was called for a malformed authority")
	}
}

// rawConnectH2 sends one CONNECT with an arbitrary authority and headers on a fresh HTTP/2
// connection and returns the answer (its body already closed).
func rawConnectH2(ctx context.Context, addr string, src identity.Source, authority string, hdr http.Header) (*http.Response, error) {
	protocols := new(http.Protocols)
	protocols.SetHTTP2(true)
	tr := &http.Transport{
		Protocols:         protocols,
		ForceAttemptHTTP2: true,
		DialTLSContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d tls.Dialer
			d.Config = identity.ClientConfig(src, identity.Workload{}, []string{"h2"})
			return d.DialContext(ctx, "tcp", addr)
		},
	}
	cc, err := tr.NewClientConn(ctx, "https", addr)
	if err != nil {
		return nil, err
	}
	defer cc.Close()
	if hdr == nil {
		hdr = http.Header{}
	}
	req := (&http.Request{Method: http.MethodConnect, URL: &url.URL{Host: authority}, Host: authority, Header: hdr}).WithContext(ctx)
	resp, err := cc.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<10))
	resp.Body.Close()
	return resp, nil
}

// refusedPort is a loopback port that refuses connections until the test ends: a socket is
// bound to it and never listens, so no other socket can take the port meanwhile (as one could
// a port found by listening and closing).
func refusedPort(t *testing.T) netip.AddrPort {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(sa.(*syscall.SockaddrInet4).Port))
}
