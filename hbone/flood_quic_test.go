package hbone

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"github.com/meshfed/meshfed/hbone/identity"
)

// TestQUICStalledHandshakesCapped: QUIC clients of one source that start their handshake
// and never finish it (the client's certificate callback blocks, so its Finished never comes)
// hold at most MaxHandshakesPerSource of the server's connections, the attempts beyond are
// refused after a Retry, a good client of another source still opens an HTTP/3 tunnel, and the
// stalled handshakes are dropped within twice HandshakeTimeout (QUIC's own bound on a
// handshake), releasing their slots.
func TestQUICStalledHandshakesCapped(t *testing.T) {
	const (
		maxHandshakes = 8
		stalled       = 3 * maxHandshakes
		handshake     = time.Second
	)
	pki := newTestPKI(t, testTrustDomain)
	ts := startServer(t, pki, serverConfig{limits: Limits{MaxHandshakesPerSource: maxHandshakes, HandshakeTimeout: handshake}})
	target := upstream(t, echo)

	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: attackerIP})
	if err != nil {
		t.Fatal(err)
	}
	tr := &quic.Transport{Conn: udp}
	server, err := net.ResolveUDPAddr("udp", ts.addr) // HTTP/3 shares the TCP port number
	if err != nil {
		t.Fatal(err)
	}
	unblock := make(chan struct{})
	conf := identity.ClientConfig(pki.source(t, "ns1", "attacker"), identity.Workload{}, []string{http3.NextProtoH3})
	conf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		<-unblock
		return nil, net.ErrClosed
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer func() {
		cancel()
		close(unblock)
		wg.Wait()
		_ = tr.Close()
	}()
	for range stalled {
		wg.Go(func() {
			if c, err := tr.Dial(ctx, server, conf, &quic.Config{HandshakeIdleTimeout: time.Minute}); err == nil {
				_ = c.CloseWithError(0, "")
			}
		})
	}
	// The server holds the first maxHandshakes; it refuses the rest once they answered a Retry.
	if !waitFor(waitTimeout, func() bool { return ts.srv.Stats().RefusedHandshakes > 0 }) {
		t.Fatalf("%d stalled QUIC handshakes of one source, none refused at the cap of %d: %+v", stalled, maxHandshakes, ts.srv.Stats())
	}
	held, heldSeen := ts.sourceLoad(attackerIP), time.Now()
	if held.handshakes > maxHandshakes || held.conns > maxHandshakes {
		t.Fatalf("the stalled source holds %+v, want at most %d handshakes", held, maxHandshakes)
	}
	// Nothing the stalled clients do ends their handshakes: the server's bound does. Every
	// handshake held now began before heldSeen, so the bound releases them by heldSeen plus
	// twice HandshakeTimeout. The release is watched while the good tunnels open, not after:
	// those opens can take seconds on a loaded machine, and must not count.
	released := make(chan time.Duration, 1)
	go func() {
		waitFor(2*waitTimeout, func() bool { return ts.sourceLoad(attackerIP).conns == 0 })
		released <- time.Since(heldSeen)
	}()
	took := openTimes(t, pki, ts, target, ProtocolH3, 3)
	t.Logf("stalled source holds %+v; %+v; good h3 tunnels opened in %v", held, ts.srv.Stats(), took)
	after := <-released
	t.Logf("stalled handshakes released %v after they were seen held", after.Round(time.Millisecond))
	if after > 2*handshake+waitTimeout/2 {
		t.Fatalf("stalled handshakes released %v after they were seen held (%+v left), want about 2 × %v", after, ts.sourceLoad(attackerIP), handshake)
	}
}
